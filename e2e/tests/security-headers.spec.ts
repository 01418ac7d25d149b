import { chromiumForThisFile, lastAnswer, newPage, sendMessage, signIn, waitForAnswerDone, watchCsp } from '../support/browser';

const browser = chromiumForThisFile();

test('the portal works under its CSP: styles load, the theme script runs, a chat streams, nothing is blocked', async () => {
  const { context, page, errors } = await newPage(browser());
  const violations = await watchCsp(page);
  const response = await page.goto('/');
  expect(response?.headers()['content-security-policy']).toContain("default-src 'self'");
  await signIn(page);
  // The global stylesheet is applied (not stuck on media=print, which needed an inline onload).
  expect(await page.evaluate(() => [...document.styleSheets].some((s) => s.href?.includes('styles-') && s.media.mediaText !== 'print'))).toBe(true);
  await page.evaluate(() => localStorage.setItem('sb.theme', 'dark'));
  await page.reload();
  await page.getByTestId('composer-input').waitFor();
  expect(await page.evaluate(() => document.documentElement.classList.contains('theme-dark'))).toBe(true);
  await sendMessage(page, 'Hello under a strict policy');
  await waitForAnswerDone(page);
  expect((await lastAnswer(page).textContent())?.length).toBeGreaterThan(0);
  expect(await violations()).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
});

test('Swagger UI at /docs renders under the CSP', async () => {
  const { context, page, errors } = await newPage(browser());
  const violations = await watchCsp(page);
  await page.goto('/docs');
  await page.locator('.opblock').first().waitFor();
  expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
  expect(await violations()).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
});
