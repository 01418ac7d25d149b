/**
 * Screenshots of the admin Budgets and Usage pages (issue 15) for the docs: desktop 1280 wide and
 * tall enough for the whole page (1160 and 1240), phone 390×844, light and dark → docs/screenshots/{budgets,usage}-{desktop,phone}-{light,dark}.png;
 * and a user's menu with spend and budgets (spend-menu-…).
 *
 *   npx nx run-many -t build && cd e2e && npx tsx scripts/screenshots-spend.ts
 *
 * Starts its own stack on a fresh PostgreSQL database (TEST_DATABASE_URL's server). Today's spend
 * comes from real chats through the emulator; the ledger cannot be back-dated through the API, so
 * the weeks before are demo rows written straight into usage_ledger (several users, groups, a
 * batch client and three models), which is what makes the chart worth looking at.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '@switchboard/testing';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newPage, sendMessage, signIn, waitForAnswerDone } from '../support/browser';
import { apiAs } from '../support/fixtures';
import { adminUser, startStack, testModels } from '../support/stack';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');
const viewports = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

async function settle(page: Page): Promise<void> {
  await page.evaluate(() => document.fonts.ready);
  await page.waitForTimeout(600);
}

/**
 * The test catalog with list-like prices (the e2e catalog's inflated Haiku price would make every
 * other model invisible in the chart).
 */
const demoModels = testModels.map((m, i) => ({
  ...m,
  price: [{ inputPer1k: 0.00025, outputPer1k: 0.00125 }, m.price, { inputPer1k: 0.0008, outputPer1k: 0.004 }, m.price, m.price][i] ?? m.price,
}));

/** A small deterministic PRNG (mulberry32), so the demo data is the same on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Demo ledger rows for the 21 days before today. */
async function seedLedger(databaseUrl: string): Promise<void> {
  const people = [
    { principal: 'local:ana', groups: ['support'] },
    { principal: 'local:ben', groups: ['support'] },
    { principal: 'local:chen', groups: ['research'] },
    { principal: 'local:dana', groups: ['research', 'support'] },
  ];
  const models = [demoModels[0]!, demoModels[4]!, demoModels[2]!];
  const random = rng(15);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
    let n = 0;
    for (let d = 21; d >= 1; d--) {
      const weekend = [0, 6].includes(new Date(today - d * 86_400_000).getUTCDay());
      const calls = weekend ? 5 : 20 + Math.floor(random() * 25);
      for (let i = 0; i < calls; i++) {
        const batch = random() < 0.2;
        const who = batch ? { principal: 'nightly-batch', groups: [] as string[] } : people[Math.floor(random() * people.length)]!;
        const pick = random();
        const model = models[pick < 0.45 ? 0 : pick < 0.75 ? 1 : 2]!;
        const input = Math.round(1500 + random() * (batch ? 60000 : 20000));
        const output = Math.round(200 + random() * 2500);
        const cost = (input / 1000) * model.price.inputPer1k + (output / 1000) * model.price.outputPer1k;
        const at = new Date(today - d * 86_400_000 + Math.floor(random() * 86_000_000));
        await client.query(
          `insert into usage_ledger (call_key, at, principal, principal_kind, groups, model_id, purpose, input_tokens, output_tokens, cost_usd)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [`demo-${++n}`, at, who.principal, batch ? 'client' : 'person', who.groups, model.id, batch ? 'summarize' : 'chat', input, output, cost],
        );
      }
    }
  } finally {
    await client.end();
  }
}

async function prepare(browser: Browser): Promise<void> {
  const { context, page } = await newPage(browser);
  await signIn(page, 'ana');
  for (const text of ['Draft a reply to the customer about the late delivery [[emulator:tokens=90]]', 'Summarize the support queue for today [[emulator:tokens=60]]']) {
    await page.getByTestId('new-conversation').click();
    await sendMessage(page, text);
    await waitForAnswerDone(page);
  }
  await context.close();

  const admin = await newPage(browser);
  await signIn(admin.page, adminUser);
  const budgets = [
    // ana's spend this month is near this limit: her menu shows the 80 % warning.
    { scope: 'user', subject: 'local:ana', period: 'month', limitUsd: 3, mode: 'block' },
    { scope: 'user', subject: `local:${adminUser}`, period: 'month', limitUsd: 40, mode: 'warn' },
    { scope: 'user', subject: 'local:ben', period: 'day', limitTokens: 200000, mode: 'block' },
    { scope: 'group', subject: 'support', period: 'month', limitUsd: 150, mode: 'warn' },
    { scope: 'group', subject: 'research', period: 'month', limitUsd: 300, limitTokens: 20000000, mode: 'block' },
    { scope: 'client', subject: 'nightly-batch', period: 'day', limitUsd: 20, mode: 'block' },
  ];
  for (const body of budgets) {
    const res = await apiAs(admin.page, '/v1/admin/budgets', { method: 'POST', body });
    if (res.status !== 201) throw new Error(`budget not created: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const shares = [
    { scope: 'client', subject: 'nightly-batch', maxPercent: 30 },
    { scope: 'group', subject: 'support', modelId: testModels[4]!.id, minPercent: 20 },
  ];
  for (const body of shares) {
    const res = await apiAs(admin.page, '/v1/admin/shares', { method: 'POST', body });
    if (res.status !== 201) throw new Error(`share not created: ${res.status} ${JSON.stringify(res.body)}`);
  }
  await sendMessage(admin.page, 'Which teams used the most tokens this week? [[emulator:tokens=120]]');
  await waitForAnswerDone(admin.page);
  await admin.context.close();
}

async function shoot(browser: Browser, size: keyof typeof viewports, theme: 'light' | 'dark'): Promise<void> {
  const { context, page } = await newPage(browser, { viewport: viewports[size], colorScheme: theme });
  const file = (view: string) => join(outDir, `${view}-${size}-${theme}.png`);
  await signIn(page, adminUser);

  // Desktop: tall enough for the budgets and the shares below them.
  if (size === 'desktop') await page.setViewportSize({ width: 1280, height: 1160 });
  await page.goto('/budgets');
  await page.getByTestId('share-item').nth(1).waitFor();
  await page.getByTestId('budget-item').nth(5).waitFor();
  // Editing one shows the form filled in.
  await page.locator('[data-testid="budget-item"][data-subject="support"]').getByTestId('budget-edit').click();
  await page.locator('.mat-mdc-tooltip').waitFor({ state: 'detached' }).catch(() => undefined);
  if (size === 'phone') await page.locator('#budget-form-heading').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  // No hover tooltip from where the pointer stayed.
  await page.mouse.move(1, 1);
  await settle(page);
  await page.screenshot({ path: file('budgets') });

  // Desktop: tall enough for the chart and the top spenders table together.
  if (size === 'desktop') await page.setViewportSize({ width: 1280, height: 1240 });
  await page.goto('/usage');
  await page.getByTestId('usage-chart').waitFor();
  await page.locator('[data-testid="usage-top-row"]').nth(3).waitFor();
  await settle(page);
  await page.screenshot({ path: file('usage') });
  await context.close();

  // A user's view: spend and budgets in the user menu.
  const user = await newPage(browser, { viewport: viewports[size], colorScheme: theme });
  await signIn(user.page, 'ana');
  await user.page.getByTestId('user-menu').click();
  await user.page.locator('[data-testid="my-budget"]').waitFor();
  await settle(user.page);
  await user.page.screenshot({ path: file('spend-menu') });
  await user.context.close();
}

async function main(): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const db = await createTestDatabase();
  const catalogDir = await mkdtemp(join(tmpdir(), 'sb-shots-'));
  const modelsFile = join(catalogDir, 'models.json');
  await writeFile(modelsFile, JSON.stringify(demoModels));
  const stack = await startStack({ env: { DATABASE_URL: db.url, MODELS_FILE: modelsFile, RATE_CHAT_PER_MINUTE: '0', RATE_CHAT_CONCURRENT: '0' } });
  process.env.E2E_BASE_URL = stack.url;
  const browser = await launchChromium();
  try {
    await seedLedger(db.url);
    await prepare(browser);
    for (const size of ['desktop', 'phone'] as const) {
      for (const theme of ['light', 'dark'] as const) {
        await shoot(browser, size, theme);
        console.log(`screenshots: ${size} ${theme} done`);
      }
    }
  } finally {
    await browser.close();
    await stack.stop();
    await db.drop();
    await rm(catalogDir, { recursive: true, force: true });
  }
}

await main();
