import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';

export const baseUrl = (): string => {
  const url = process.env.E2E_BASE_URL;
  if (!url) throw new Error('E2E_BASE_URL is not set (global setup starts the stack)');
  return url;
};

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** One Chromium for the test file that calls this (at its top level): launched before its tests, closed after. */
export function chromiumForThisFile(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => browser!;
}

export type PageOptions = {
  locale?: string;
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /** Another stack than the shared one (e.g. one in oidc mode). */
  baseUrl?: string;
};

/** A fresh context (own storage) and page; collects page errors so tests can assert none happened. */
export async function newPage(browser: Browser, options: PageOptions = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    baseURL: options.baseUrl ?? baseUrl(),
    locale: options.locale ?? 'en-US',
    viewport: options.viewport ?? { width: 1280, height: 860 },
    colorScheme: options.colorScheme ?? 'light',
    acceptDownloads: true,
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return { context, page, errors };
}

let counter = 0;
export function uniqueUser(prefix = 'user'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
}

/** Signs in through the local-mode form and waits for the chat view. */
export async function signIn(page: Page, username = uniqueUser()): Promise<string> {
  await page.goto('/');
  await page.getByTestId('signin-username').fill(username);
  await page.getByTestId('signin-submit').click();
  await page.waitForURL(/\/chat/);
  await page.getByTestId('composer-input').waitFor();
  return username;
}

/** Types a message and sends it with the Send button. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('send-button').click();
}

/** The last assistant message element. */
export const lastAnswer = (page: Page) => page.locator('[data-testid="message"][data-role="assistant"]').last();

export async function waitForAnswerDone(page: Page, timeout = 30_000): Promise<void> {
  await page.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]').last().waitFor({ timeout });
}

/** axe-core WCAG 2.1 A/AA violations, summarised for a readable assertion. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Text still fading in (Material's error messages) would be judged at part opacity, a false
  // contrast failure: let the finite animations end first (spinners run forever, so not those).
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => a.effect?.getComputedTiming().iterations !== Infinity)
        .map((a) => a.finished.catch(() => undefined)),
    ),
  );
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

/** Records every Content-Security-Policy violation the page reports, from its first script on. */
export async function watchCsp(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(() => {
    const seen: string[] = ((window as unknown as { __csp: string[] }).__csp = []);
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
  });
  const console: string[] = [];
  page.on('console', (m) => m.type() === 'error' && /Content Security Policy/i.test(m.text()) && console.push(m.text()));
  return async () => [...(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? [])), ...console];
}
