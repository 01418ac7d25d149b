import type { Page } from 'playwright-core';
import { chromiumForThisFile, lastAnswer, newPage, sendMessage, signIn, waitForAnswerDone } from '../support/browser';

const browser = chromiumForThisFile();

/** Records every Content-Security-Policy violation the page reports, from its first script on. */
async function watchCsp(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(() => {
    const seen: string[] = ((window as unknown as { __csp: string[] }).__csp = []);
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
  });
  const console: string[] = [];
  page.on('console', (m) => m.type() === 'error' && /Content Security Policy/i.test(m.text()) && console.push(m.text()));
  return async () => [...(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? [])), ...console];
}

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
