/**
 * Screenshots of the Operations page for the README: desktop 1280×1100 and phone 390×844, light and
 * dark, with traffic running (chats streaming, batch jobs queued on a model with a tiny quota, two
 * workers).
 *
 *   npx nx run-many -t build && cd e2e && npx tsx scripts/screenshots-operations.ts
 *
 * Starts its own stack on PostgreSQL and writes docs/screenshots/operations-<size>-<theme>.png.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchChromium, newPage, sendMessage, signIn, waitForAnswerDone } from '../support/browser';
import { opsAdmin, startOpsStack } from '../support/ops-stack';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');
// Desktop is taller than the other screenshots: the page's workers and API nodes are below the models.
const viewports = { desktop: { width: 1280, height: 1100 }, phone: { width: 390, height: 844 } } as const;

async function submitJob(page: Page, text: string, model: string): Promise<void> {
  await page.evaluate(
    async ({ text, model }) => {
      const stored = JSON.parse(localStorage.getItem('sb.token') ?? '{}') as { token?: string };
      await fetch('/v1/jobs/summarize', {
        method: 'POST',
        headers: { Authorization: `Bearer ${stored.token}`, 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() },
        body: JSON.stringify({ text, modelId: model }),
      });
    },
    { text, model },
  );
}

async function main(): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const stack = await startOpsStack();
  const browser = await launchChromium();
  try {
    await stack.startWorker();
    const { context, page } = await newPage(browser, { baseUrl: stack.url });
    await signIn(page, 'ana');
    for (let i = 0; i < 3; i++) {
      await sendMessage(page, `Status of the release, part ${i + 1} [[emulator:tokens=60]]`);
      await waitForAnswerDone(page);
    }
    // Work that is still running or waiting when the pictures are taken.
    for (let i = 0; i < 3; i++) await submitJob(page, `Weekly report ${i + 1}. [[emulator:tokens=40]]`, 'test.tiny-quota-v1:0');
    await submitJob(page, 'All-hands transcript. [[emulator:tokens=4000,tps=20]]', 'anthropic.claude-3-haiku-20240307-v1:0');
    await sendMessage(page, 'Write the long version [[emulator:tokens=4000,tps=20]]');
    for (const size of ['desktop', 'phone'] as const) {
      for (const theme of ['light', 'dark'] as const) {
        const shot = await newPage(browser, { baseUrl: stack.url, viewport: viewports[size], colorScheme: theme });
        await signIn(shot.page, opsAdmin);
        await shot.page.goto('/operations');
        await shot.page.locator('[data-testid="ops-model"]').first().waitFor();
        await shot.page.locator('[data-testid="ops-worker"]').nth(1).waitFor();
        await shot.page.evaluate(() => document.fonts.ready);
        await shot.page.waitForTimeout(1200);
        await shot.page.screenshot({ path: join(outDir, `operations-${size}-${theme}.png`) });
        await shot.context.close();
        console.log(`operations screenshot: ${size} ${theme}`);
      }
    }
    await context.close();
  } finally {
    await browser.close();
    await stack.stop();
  }
}

await main();
