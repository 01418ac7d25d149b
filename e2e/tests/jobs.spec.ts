import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { axeViolations, chromiumForThisFile, newPage, signIn } from '../support/browser';

const browser = chromiumForThisFile();

async function openJobs(page: Page): Promise<void> {
  await signIn(page);
  await page.getByTestId('nav-jobs').click();
  await page.waitForURL(/\/jobs$/);
  await page.getByTestId('job-form').waitFor();
}

async function submitText(page: Page, text: string): Promise<string> {
  const before = await page.getByTestId('job-item').count();
  await page.getByTestId('job-text').fill(text);
  await page.getByTestId('job-submit').click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="job-item"]').length > n, before);
  return (await page.getByTestId('job-item').first().getAttribute('data-id'))!;
}

const job = (page: Page, id: string) => page.locator(`[data-testid="job-item"][data-id="${id}"]`);

test('summarizes text: status, markdown result, copy and download; the page passes axe', async () => {
  const { context, page, errors } = await newPage(browser());
  await openJobs(page);
  await page.getByTestId('jobs-empty').waitFor();
  // Form validation: nothing to summarize, then an out-of-range word limit.
  await page.getByTestId('job-submit').click();
  await page.getByTestId('job-form-error').waitFor();
  await page.getByTestId('job-max-words').fill('3');
  await page.getByTestId('job-text').fill('x');
  await page.getByTestId('job-submit').click();
  await page.getByTestId('job-max-words-error').waitFor();
  expect(await page.getByTestId('job-item').count()).toBe(0);
  await page.getByTestId('job-max-words').fill('120');
  await page.getByTestId('job-instructions').fill('Focus on the queue.');

  const id = await submitText(page, 'Switchboard puts every Bedrock call behind one queue so workers share the quota. [[emulator:tokens=80]]');
  await page.locator(`[data-testid="job-item"][data-id="${id}"][data-status="completed"]`).waitFor({ timeout: 30_000 });
  const result = job(page, id).getByTestId('job-result');
  await result.locator('[data-testid="markdown"] *').first().waitFor();
  const rendered = await result.innerText();
  expect(rendered.length).toBeGreaterThan(20);
  await job(page, id).getByTestId('job-usage').waitFor();
  expect(await job(page, id).getByTestId('job-status').innerText()).toBe('Completed');

  // The portal shows what the API holds.
  const apiJob = await page.evaluate(async (jobId) => {
    const { token } = JSON.parse(localStorage.getItem('sb.token') ?? '{}') as { token?: string };
    const res = await fetch(`/v1/jobs/${jobId}`, { headers: { Authorization: `Bearer ${token}` } });
    return res.json() as Promise<{ status: string; result?: { summary: string } }>;
  }, id);
  expect(apiJob.status).toBe('completed');
  const summary = apiJob.result!.summary;

  await job(page, id).getByTestId('job-copy').click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(summary);

  const [dl] = await Promise.all([page.waitForEvent('download'), job(page, id).getByTestId('job-download').click()]);
  expect(dl.suggestedFilename()).toMatch(/^summary-.*\.md$/);
  // Named by the server after the first words, with a heading.
  expect(await readFile((await dl.path())!, 'utf8')).toBe(`# Summary of ${'Switchboard puts every Bedrock call behind one queue so workers'.slice(0, 57)}…\n\n${summary}`);

  expect(await axeViolations(page)).toEqual([]);

  // After a reload the job is listed from the server; Chinese labels.
  await page.reload();
  await job(page, id).waitFor();
  await page.getByTestId('lang-menu').click();
  await page.getByTestId('lang-zh-CN').click();
  await job(page, id).getByTestId('job-status').filter({ hasText: '已完成' }).waitFor();
  expect((await page.getByTestId('job-submit').innerText()).trim()).toBe('生成摘要');
  expect(errors).toEqual([]);
  await context.close();
});

test('cancels a long-running job', async () => {
  const { context, page, errors } = await newPage(browser());
  await openJobs(page);
  const id = await submitText(page, 'A very long report to summarize. [[emulator:tokens=3000,tps=30]]');
  await job(page, id).getByTestId('job-progress').waitFor();
  await job(page, id).getByTestId('job-cancel').click();
  await page.locator(`[data-testid="job-item"][data-id="${id}"][data-status="cancelled"]`).waitFor({ timeout: 20_000 });
  expect(await job(page, id).getByTestId('job-status').innerText()).toBe('Cancelled');
  await job(page, id).getByTestId('job-cancel').waitFor({ state: 'detached' });
  await job(page, id).getByTestId('job-progress').waitFor({ state: 'detached' });
  expect(await axeViolations(page)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
});

test('summarizes an attached document; unsupported files are refused in the form', async () => {
  const { context, page, errors } = await newPage(browser());
  await openJobs(page);
  const input = page.getByTestId('job-file-input');
  await input.setInputFiles({ name: 'photo.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ') });
  await page.getByTestId('job-file-error').waitFor();
  await input.setInputFiles({
    name: 'minutes.md', mimeType: 'text/markdown',
    buffer: Buffer.from('# Minutes\n\nThe team agreed to move the queue to Redis Cluster. [[emulator:tokens=40]]\n'),
  });
  await page.getByTestId('job-file').filter({ hasText: 'minutes.md' }).waitFor();
  await page.getByTestId('job-submit').click();
  await page.getByTestId('job-file').waitFor({ state: 'detached' });
  const item = page.getByTestId('job-item').first();
  expect(await item.innerText()).toContain('minutes.md');
  await page.locator('[data-testid="job-item"][data-status="completed"]').first().waitFor({ timeout: 30_000 });
  await item.getByTestId('job-result').locator('[data-testid="markdown"] *').first().waitFor();
  expect(errors).toEqual([]);
  await context.close();
});

test('jobs keep their names server-side, show dollars, download under the name with a heading; old file errors clear', async () => {
  const { context, page } = await newPage(browser());
  const user = await signIn(page);
  await page.getByTestId('nav-jobs').click();
  await page.getByTestId('job-form').waitFor();
  const input = page.getByTestId('job-file-input');
  await input.setInputFiles({ name: 'setup.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ') });
  await page.getByTestId('job-file-error').waitFor();
  await input.setInputFiles({ name: 'quarterly-report.txt', mimeType: 'text/plain', buffer: Buffer.from('Revenue grew in every region. [[emulator:tokens=30]]\n') });
  await page.getByTestId('job-file').waitFor();
  await page.getByTestId('job-submit').click();
  await page.getByTestId('job-file').waitFor({ state: 'detached' });
  // The old file-type complaint is gone with the submit that succeeded.
  await page.getByTestId('job-file-error').waitFor({ state: 'detached' });
  const item = page.locator('[data-testid="job-item"][data-status="completed"]').first();
  await item.waitFor({ timeout: 30_000 });
  expect(await item.getByTestId('job-name').innerText()).toBe('quarterly-report.txt');
  if (!(await item.getByTestId('job-detail').isVisible())) await item.getByTestId('job-toggle').click();
  expect(await item.getByTestId('job-cost').innerText()).toMatch(/^\$\d/);
  const [dl] = await Promise.all([page.waitForEvent('download'), item.getByTestId('job-download').click()]);
  expect(dl.suggestedFilename()).toBe('summary-quarterly-report.txt.md');
  expect(await readFile((await dl.path())!, 'utf8')).toMatch(/^# Summary of quarterly-report\.txt\n\n\S/);
  const jobId = await item.getAttribute('data-id');
  const fromApi = await page.evaluate(async (id) => {
    const { token } = JSON.parse(localStorage.getItem('sb.token') ?? '{}') as { token?: string };
    return (await fetch(`/v1/jobs/${id}`, { headers: { Authorization: `Bearer ${token}` } })).json() as Promise<{ name?: string; progress?: number }>;
  }, jobId);
  expect(fromApi).toEqual(expect.objectContaining({ name: 'quarterly-report.txt', progress: 100 }));
  await context.close();

  // A new sign-in (another browser, nothing stored locally): the name comes from the server.
  const other = await newPage(browser());
  await signIn(other.page, user);
  await other.page.getByTestId('nav-jobs').click();
  await other.page.locator(`[data-testid="job-item"][data-id="${jobId}"] [data-testid="job-name"]`, { hasText: 'quarterly-report.txt' }).waitFor();
  await other.context.close();
});
