/**
 * Issue 5 benchmark: time from page load to the first streamed token in headless Chromium,
 * against the single-process stack with the Bedrock emulator (TTFB 50 ms by default).
 *
 *   npm run bench:portal            (RUNS=7)
 *
 * Each run loads the portal fresh (already signed in), sends a message as soon as the composer is
 * ready and waits for the answer's first text. The initial JavaScript size is `ng build`'s figure.
 */
import { startStack } from '../e2e/support/stack.js';
import { launchChromium } from '../e2e/support/browser.js';
import { pct } from './percentile.js';

const runs = Number(process.env.RUNS ?? 7);

const stack = await startStack();
const browser = await launchChromium();
try {
  const context = await browser.newContext({ baseURL: stack.url, viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto('/');
  await page.getByTestId('signin-username').fill(`bench-${Date.now()}`);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('composer-input').waitFor();

  const ready: number[] = [];
  const firstToken: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await page.goto('/chat', { waitUntil: 'commit' });
    await page.getByTestId('composer-input').waitFor();
    const t1 = performance.now();
    await page.getByTestId('composer-input').fill(`Benchmark question ${i} [[emulator:tokens=40]]`);
    const t2 = performance.now();
    await page.getByTestId('send-button').click();
    await page.waitForFunction(() => {
      const answers = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
      return (answers[answers.length - 1]?.textContent ?? '').trim().length > 0;
    });
    const t3 = performance.now();
    ready.push(t1 - t0);
    firstToken.push(t3 - t2);
    total.push(t1 - t0 + (t3 - t2));
  }
  const row = (name: string, v: number[]) => console.log(`${name.padEnd(32)} p50 ${pct(v, 50).toFixed(0).padStart(5)} ms   max ${Math.max(...v).toFixed(0).padStart(5)} ms`);
  console.log(`\n${runs} fresh page loads, headless Chromium, emulator TTFB 50 ms`);
  row('page load -> composer ready', ready);
  row('send -> first streamed token', firstToken);
  row('page load -> first token', total);
} finally {
  await browser.close();
  await stack.stop();
}
