/**
 * Screenshots of the portal's main views for the README: chat, conversation list (search with
 * snippets), jobs and conversation settings; desktop 1280×800 and phone 390×844; light and dark.
 *
 *   npx nx run-many -t build && cd e2e && npx tsx scripts/screenshots.ts
 *
 * Starts its own stack (or uses E2E_BASE_URL) and writes PNGs to docs/screenshots/.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newPage, sendMessage, signIn, waitForAnswerDone } from '../support/browser';
import { promptWithCode } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');
const user = 'ana';
const viewports = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

async function settle(page: Page): Promise<void> {
  await page.evaluate(() => document.fonts.ready);
  // Let animations (dialogs, drawers, ripples) finish.
  await page.waitForTimeout(600);
}

async function prepare(browser: Browser): Promise<{ chatId: string }> {
  const { context, page } = await newPage(browser);
  await signIn(page, user);
  await sendMessage(page, 'Draft a short agenda for the quarterly planning meeting [[emulator:tokens=80]]');
  await waitForAnswerDone(page);
  await page.getByTestId('new-conversation').click();
  await sendMessage(page, 'Summarize the incident report about the queue backlog [[emulator:tokens=60]]');
  await waitForAnswerDone(page);
  await page.getByTestId('new-conversation').click();
  const { prompt } = promptWithCode();
  await sendMessage(page, prompt);
  await waitForAnswerDone(page);
  await page.waitForURL(/\/chat\/[^/]+$/);
  const chatId = page.url().split('/').pop()!;
  await sendMessage(page, 'And how do workers share the quota? [[emulator:tokens=70]]');
  await waitForAnswerDone(page);

  await page.getByTestId('nav-jobs').click();
  await page.getByTestId('job-text').fill('Quarterly report: revenue grew, the queue service cut Bedrock throttling to zero, two regions were added. [[emulator:tokens=90]]');
  await page.getByTestId('job-instructions').fill('Bullet points for the leadership team');
  await page.getByTestId('job-submit').click();
  await page.locator('[data-testid="job-item"][data-status="completed"]').first().waitFor({ timeout: 30_000 });
  await page.getByTestId('job-text').fill('Meeting transcript, all hands, November. [[emulator:tokens=3000,tps=20]]');
  await page.getByTestId('job-submit').click();
  await page.locator('[data-testid="job-item"][data-status="active"]').first().waitFor({ timeout: 30_000 });
  await context.close();
  return { chatId };
}

async function shoot(browser: Browser, chatId: string, size: keyof typeof viewports, theme: 'light' | 'dark'): Promise<void> {
  const { context, page } = await newPage(browser, { viewport: viewports[size], colorScheme: theme });
  const file = (view: string) => join(outDir, `${view}-${size}-${theme}.png`);
  await signIn(page, user);
  const phone = size === 'phone';

  await page.goto(`/chat/${chatId}`);
  await page.locator('[data-testid="message"][data-role="assistant"] pre code.hljs').first().waitFor();
  // The header (title, usage, model) stays on top; the answer's code block (language, copy) in view.
  await page.getByTestId('conversation-usage').waitFor();
  await page.locator('[data-testid="code-lang"]').first().evaluate((el) => el.scrollIntoView({ block: 'center' }));
  await settle(page);
  await page.screenshot({ path: file('chat') });

  if (phone) {
    await page.getByTestId('open-conversations').click();
  }
  await page.getByTestId('conversation-search').fill('queue');
  await page.getByTestId('conversation-snippet').first().waitFor();
  await settle(page);
  await page.screenshot({ path: file('conversations') });
  if (phone) await page.keyboard.press('Escape');
  await page.getByTestId('conversation-search').fill('').catch(() => undefined);

  await page.goto(`/chat/${chatId}`);
  await page.getByTestId('composer-input').waitFor();
  await page.getByTestId('settings-button').click();
  await page.getByTestId('prompt-item').first().waitFor();
  await settle(page);
  await page.screenshot({ path: file('settings') });
  await page.getByTestId('settings-cancel').click();

  await page.goto('/jobs');
  const done = page.locator('[data-testid="job-item"][data-status="completed"]').first();
  await done.getByTestId('job-toggle').click();
  await done.getByTestId('job-result').locator('[data-testid="markdown"] *').first().waitFor();
  if (phone) await page.locator('#jobs-heading').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await settle(page);
  await page.screenshot({ path: file('jobs') });
  await context.close();
}

async function main(): Promise<void> {
  await mkdir(outDir, { recursive: true });
  let stack: Stack | undefined;
  if (!process.env.E2E_BASE_URL) {
    stack = await startStack();
    process.env.E2E_BASE_URL = stack.url;
  }
  const browser = await launchChromium();
  try {
    const { chatId } = await prepare(browser);
    for (const size of ['desktop', 'phone'] as const) {
      for (const theme of ['light', 'dark'] as const) {
        await shoot(browser, chatId, size, theme);
        console.log(`screenshots: ${size} ${theme} done`);
      }
    }
  } finally {
    await browser.close();
    await stack?.stop();
  }
}

await main();
