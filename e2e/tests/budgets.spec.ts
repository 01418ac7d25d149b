import type { MeUsage } from '@switchboard/contracts';
import type { Page } from 'playwright-core';
import { axeViolations, chromiumForThisFile, newPage, sendMessage, signIn, uniqueUser, waitForAnswerDone, watchCsp } from '../support/browser';
import { apiAs } from '../support/fixtures';
import { adminUser } from '../support/stack';

const browser = chromiumForThisFile();

/** USD as the portal shows it in English (four decimals below a cent). */
const dollars = (v: number) => {
  const digits = v > 0 && v < 0.01 ? 4 : 2;
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(v);
};

/** Opens the user menu (which reads /v1/me/usage afresh) and returns the spend panel. */
async function openSpend(page: Page) {
  await page.getByTestId('user-menu').click();
  const panel = page.getByTestId('spend-panel');
  await panel.waitFor();
  return panel;
}

async function closeMenu(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await page.getByTestId('spend-panel').waitFor({ state: 'detached' });
}

/**
 * The ledger row is written when the worker settles the call (the conversation's title is a call
 * too, a moment later): poll the API until it holds, then the menu must show the same figure (it
 * reads /v1/me/usage when it opens); a charge landing in between makes it try again.
 */
async function spendShown(page: Page, predicate: (u: MeUsage) => boolean): Promise<MeUsage> {
  for (let i = 0; i < 50; i++) {
    const usage = (await apiAs<MeUsage>(page, '/v1/me/usage')).body;
    if (predicate(usage)) {
      await openSpend(page);
      const shown = await page
        .waitForFunction((text) => document.querySelector('[data-testid="my-spend"]')?.textContent?.trim() === text, dollars(usage.costUsd), { timeout: 3000 })
        .then(() => true, () => false);
      if (shown) return usage;
      await closeMenu(page);
    }
    await page.waitForTimeout(200);
  }
  throw new Error('the menu never showed the spend the API reports');
}

async function pickOption(page: Page, selectTestId: string, value: string): Promise<void> {
  await page.getByTestId(selectTestId).click();
  await page.locator(`mat-option[data-value="${value}"]`).click();
  await page.locator('mat-option').first().waitFor({ state: 'detached' });
}

test('an admin sets a budget, a user chats and sees the spend, the Usage page shows it; others cannot open the admin pages', async () => {
  const user = uniqueUser('spender');
  const sub = `local:${user}`;

  // Admin: the Budgets page, its validation, then a user budget.
  const admin = await newPage(browser());
  // The chart library runs under the portal's CSP (no eval, no inline script).
  const cspViolations = await watchCsp(admin.page);
  await signIn(admin.page, adminUser);
  await admin.page.getByTestId('nav-budgets').click();
  await admin.page.waitForURL(/\/budgets$/);
  await admin.page.getByTestId('budget-form').waitFor();
  await admin.page.getByTestId('budget-save').click();
  await admin.page.getByTestId('budget-subject-error').waitFor();
  expect(await admin.page.getByTestId('budget-form-error').innerText()).toContain('Set a limit');
  await admin.page.getByTestId('budget-subject').fill(sub);
  await admin.page.getByTestId('budget-limit-usd').fill('-2');
  await admin.page.getByTestId('budget-save').click();
  await admin.page.getByTestId('budget-limit-usd-error').waitFor();
  expect(await admin.page.locator(`[data-testid="budget-item"][data-subject="${sub}"]`).count()).toBe(0);
  expect(await axeViolations(admin.page)).toEqual([]);

  // $20 a month, blocking: the worst case the admission reserves per call (input + 4096 output
  // tokens at the test catalog's $1.25/1k, about $5.2) fits under it; a short answer costs cents.
  await admin.page.getByTestId('budget-limit-usd').fill('20');
  await pickOption(admin.page, 'budget-period', 'month');
  await pickOption(admin.page, 'budget-mode', 'block');
  await admin.page.getByTestId('budget-save').click();
  const item = admin.page.locator(`[data-testid="budget-item"][data-subject="${sub}"]`);
  await item.waitFor();
  expect(await item.getByTestId('budget-item-limits').innerText()).toContain('$20.00');
  expect(await item.getByTestId('budget-item-mode').innerText()).toBe('Block');

  // The user chats; the user menu shows this month's spend against the budget.
  const u = await newPage(browser());
  await signIn(u.page, user);
  expect(await u.page.getByTestId('nav-budgets').count()).toBe(0);
  await sendMessage(u.page, 'What does a budget protect? [[emulator:tokens=60]]');
  await waitForAnswerDone(u.page);
  // Both calls settled: the answer (60 output tokens) and the conversation's title (a few more).
  const spent = await spendShown(u.page, (x) => x.outputTokens > 60 && (x.budgets[0]?.spentUsd ?? 0) === x.costUsd);
  expect(spent.budgets).toHaveLength(1);
  expect(spent.budgets[0]).toMatchObject({ scope: 'user', subject: sub, period: 'month', limitUsd: 20, mode: 'block' });
  const panel = u.page.getByTestId('spend-panel');
  await panel.getByTestId('my-budget').waitFor();
  expect(await panel.getByTestId('my-budget').getAttribute('data-level')).toBe('ok');
  expect(await u.page.getByTestId('header-budget').getAttribute('data-level')).toBe('ok');
  expect(await axeViolations(u.page)).toEqual([]);
  await closeMenu(u.page);

  // The admin lowers the limit so the spend is 90 % of it: the user's bar turns to a warning.
  await item.getByTestId('budget-edit').click();
  expect(await admin.page.getByTestId('budget-subject').inputValue()).toBe(sub);
  await admin.page.getByTestId('budget-limit-usd').fill(String(spent.budgets[0]!.spentUsd / 0.9));
  await admin.page.getByTestId('budget-save').click();
  await admin.page.getByTestId('budget-cancel-edit').waitFor({ state: 'detached' });
  await openSpend(u.page);
  await u.page.locator('[data-testid="my-budget"][data-level="warn"]').waitFor();
  expect(await u.page.getByTestId('my-budget-note').innerText()).toContain('Almost used up');
  expect(await u.page.getByTestId('header-budget').getAttribute('data-level')).toBe('warn');
  await closeMenu(u.page);

  // Usage: the chart (by model, then by group) and the top spenders, with the user in it; CSV.
  await admin.page.getByTestId('nav-usage').click();
  await admin.page.waitForURL(/\/usage$/);
  await admin.page.getByTestId('usage-chart').waitFor();
  const row = admin.page.locator(`[data-testid="usage-top-row"][data-key="${sub}"]`);
  await row.waitFor();
  // The admin's report and the user's own figure agree (the ledger behind both).
  const own = (await apiAs<MeUsage>(u.page, '/v1/me/usage')).body;
  expect(await row.getByTestId('usage-top-cost').innerText()).toBe(dollars(own.costUsd));
  expect(Number(await admin.page.getByTestId('usage-chart').getAttribute('data-series'))).toBeGreaterThanOrEqual(1);
  expect(await admin.page.getByTestId('usage-chart-canvas').getAttribute('aria-label')).toContain('Claude 3 Haiku');
  // The budget form's "saved" toast may still be fading out on a busy machine: axe measures a
  // half-transparent label's contrast, so check once it is gone.
  await admin.page.locator('mat-snack-bar-container').waitFor({ state: 'detached' });
  expect(await axeViolations(admin.page)).toEqual([]);
  expect(await cspViolations()).toEqual([]);
  // Dark theme: the chart is redrawn in the dark palette; the page still passes axe.
  await admin.page.getByTestId('theme-toggle').click();
  await admin.page.locator('html.theme-dark').waitFor({ state: 'attached' });
  // (The toggle's own tooltip goes away with the pointer.)
  await admin.page.mouse.move(1, 400);
  await admin.page.locator('.mat-mdc-tooltip').waitFor({ state: 'detached' });
  expect(await axeViolations(admin.page)).toEqual([]);
  const [dl] = await Promise.all([admin.page.waitForEvent('download'), admin.page.getByTestId('usage-csv').click()]);
  const csv = await (await import('node:fs/promises')).readFile((await dl.path())!, 'utf8');
  expect(csv.split('\r\n')[0]).toBe('user,calls,inputTokens,outputTokens,cacheReadTokens,cacheWriteTokens,costUsd');
  expect(csv).toMatch(new RegExp(`\r\n${sub},\\d+,`));
  await pickOption(admin.page, 'usage-table-by', 'model');
  await admin.page.locator('[data-testid="usage-top-row"][data-key="anthropic.claude-3-haiku-20240307-v1:0"]').waitFor();
  // A range the API refuses is caught in the page.
  await admin.page.getByTestId('usage-from').fill('2026-12-31');
  await admin.page.getByTestId('usage-to').fill('2026-01-01');
  await admin.page.getByTestId('usage-apply').click();
  await admin.page.getByTestId('usage-range-error').waitFor();

  // Delete the budget: the user has none left.
  await admin.page.getByTestId('nav-budgets').click();
  // Shares of a model's quota: checked like the API, added for one model, then removed.
  const client = uniqueUser('batch-client');
  await pickOption(admin.page, 'share-scope', 'client');
  await admin.page.getByTestId('share-subject').fill(client);
  await admin.page.getByTestId('share-min').fill('40');
  await admin.page.getByTestId('share-max').fill('30');
  await admin.page.getByTestId('share-save').click();
  await admin.page.getByTestId('share-min-error').waitFor();
  await admin.page.getByTestId('share-min').fill('');
  await pickOption(admin.page, 'share-model', 'test.text-only-v1:0');
  await admin.page.getByTestId('share-save').click();
  const share = admin.page.locator(`[data-testid="share-item"][data-subject="${client}"]`);
  await share.waitFor();
  expect(await share.getByTestId('share-item-bounds').innerText()).toMatch(/Text Only · at most 30 %/);
  expect(await axeViolations(admin.page)).toEqual([]);
  await share.getByTestId('share-delete').click();
  await share.waitFor({ state: 'detached' });
  await item.getByTestId('budget-delete').click();
  await item.getByTestId('budget-delete-confirm').click();
  await item.waitFor({ state: 'detached' });
  await openSpend(u.page);
  await u.page.getByTestId('my-budget-none').waitFor();

  // Not an admin: no links, the pages send them to the chat, the API refuses the data.
  for (const path of ['/budgets', '/usage']) {
    await u.page.goto(path);
    await u.page.waitForURL(/\/chat$/);
  }
  expect(await u.page.getByTestId('nav-usage').count()).toBe(0);
  expect((await apiAs(u.page, '/v1/admin/budgets')).status).toBe(403);
  expect((await apiAs(u.page, '/v1/admin/usage?groupBy=user')).status).toBe(403);
  expect([...admin.errors, ...u.errors]).toEqual([]);
  await admin.context.close();
  await u.context.close();
});
