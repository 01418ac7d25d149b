import type { Page } from 'playwright-core';
import { axeViolations, chromiumForThisFile, newPage, sendMessage, signIn, uniqueUser, waitForAnswerDone, watchCsp } from '../support/browser';
import { apiAs } from '../support/fixtures';
import { opsAdmin, type OpsStack, startOpsStack } from '../support/ops-stack';

const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const browser = chromiumForThisFile();
let stack: OpsStack;

beforeAll(async () => {
  stack = await startOpsStack();
}, 120_000);
afterAll(() => stack?.stop(), 60_000);

const figure = async (page: Page, testId: string) => Number((await page.getByTestId(testId).innerText()).replace(/\D/g, ''));
/** Waits for the pushed page to show what `check` wants (the test's timeout bounds it). */
async function until(page: Page, check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await page.waitForTimeout(100);
}

async function submitJob(page: Page, text: string) {
  return page.evaluate(
    async ({ text, model }) => {
      const stored = JSON.parse(localStorage.getItem('sb.token') ?? sessionStorage.getItem('sb.token') ?? '{}') as { token?: string };
      const res = await fetch('/v1/jobs/summarize', {
        method: 'POST',
        headers: { Authorization: `Bearer ${stored.token}`, 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() },
        body: JSON.stringify({ text, modelId: model }),
      });
      return res.status;
    },
    { text, model: MODEL },
  );
}

test('an admin watches the numbers move: quota used rises, the backlog drains, a killed worker disappears', async () => {
  const extra = await stack.startWorker();
  const { context, page, errors } = await newPage(browser(), { baseUrl: stack.url });
  const cspViolations = await watchCsp(page);
  await signIn(page, opsAdmin);
  await page.getByTestId('nav-operations').click();
  await page.waitForURL(/\/operations$/);
  await page.getByTestId('ops-state').filter({ hasText: 'Live' }).waitFor();
  // The stack's own worker and the extra one.
  await until(page, async () => (await page.getByTestId('ops-worker').count()) === 2);
  expect(await figure(page, 'ops-rpm-total')).toBe(0);

  // A chat from someone else and two batch jobs that take a few seconds each (the emulator streams slowly).
  const user = await newPage(browser(), { baseUrl: stack.url });
  await signIn(user.page, uniqueUser('ops-chat'));
  await sendMessage(user.page, 'How long is the queue? [[emulator:tokens=30]]');
  expect(await submitJob(page, 'First report to summarize. [[emulator:tokens=150,tps=60]]')).toBe(202);
  expect(await submitJob(page, 'Second report to summarize. [[emulator:tokens=150,tps=60]]')).toBe(202);
  await until(page, async () => (await figure(page, 'ops-backlog-total')) >= 1);
  await until(page, async () => (await figure(page, 'ops-rpm-total')) >= 1);
  await page.locator(`[data-testid="ops-model"][data-model-id="${MODEL}"]`).waitFor();
  await waitForAnswerDone(user.page);
  await until(page, async () => (await figure(page, 'ops-backlog-total')) === 0);
  expect(await page.getByTestId('ops-oldest').innerText()).toBe('—');

  extra.kill('SIGKILL');
  await page.locator(`[data-testid="ops-worker"][data-worker-id*="-${extra.pid}-"]`).waitFor({ state: 'detached' });
  expect(await page.getByTestId('ops-worker').count()).toBe(1);
  expect(await axeViolations(page)).toEqual([]);

  // bull-board, through the short cookie the page asks for.
  await page.getByTestId('open-queue-dashboard').click();
  await page.waitForURL(/\/admin\/queues\//);
  await page.getByText('summarize', { exact: false }).first().waitFor();
  // bull-board's own assets are same-origin; only its Google Fonts stylesheet is refused (system fonts then).
  expect((await cspViolations()).filter((v) => !v.includes('fonts.googleapis.com'))).toEqual([]);
  expect(errors).toEqual([]);
  expect(user.errors).toEqual([]);
  await context.close();
  await user.context.close();
});

test('a non-admin gets 403 on the page data and the queue dashboard, and is kept off Operations', async () => {
  const { context, page, errors } = await newPage(browser(), { baseUrl: stack.url });
  await signIn(page, uniqueUser('not-admin'));
  expect(await page.getByTestId('nav-operations').count()).toBe(0);
  expect((await apiAs(page, '/v1/admin/ops')).status).toBe(403);
  expect((await apiAs(page, '/v1/admin/queues/session', { method: 'POST' })).status).toBe(403);
  expect((await apiAs(page, '/admin/queues/api/queues')).status).toBe(403);
  const navigation = await page.goto('/admin/queues/');
  expect(navigation?.status()).toBe(401);
  // The portal keeps non-admins off the page (the data would be refused anyway).
  await page.goto('/operations');
  await page.waitForURL(/\/chat$/);
  expect(errors).toEqual([]);
  await context.close();
});
