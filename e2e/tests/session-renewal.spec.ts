import { chromiumForThisFile, lastAnswer, newPage, sendMessage, signIn, waitForAnswerDone } from '../support/browser';
import { expectedAnswer } from '../support/fixtures';

// Issue 11 item 7, portal side: when the server refuses the socket's token, the portal renews it,
// reconnects with the new auth.token and resumes the live answer by seq, losing nothing.
const browser = chromiumForThisFile();

test('a refused token mid-answer is renewed; the socket reconnects and the stream resumes without a gap', async () => {
  const { context, page, errors } = await newPage(browser());
  const user = await signIn(page);
  // Another tab of the same origin (a static file: no app, no socket of its own).
  const other = await context.newPage();
  await other.goto('/i18n/en.json');
  const prompt = 'Tell me a long story about queues [[emulator:tokens=400,tps=60]]';
  await sendMessage(page, prompt);
  await page.waitForFunction(() => (document.querySelector('[data-role="assistant"] [data-testid="markdown"]')?.textContent ?? '').length > 30);

  // The connection drops, and meanwhile the stored token goes bad (written by another tab, so this
  // tab adopts it): the reconnect's handshake is refused as unauthorized.
  await context.setOffline(true);
  await page.locator('[data-testid="connection-state"][data-state="offline"]').waitFor();
  await other.evaluate((username) => {
    localStorage.setItem('sb.token', JSON.stringify({ token: 'not-a-valid-token', expiresAt: Date.now() + 3_600_000, source: 'local', username }));
  }, user);
  await other.close();
  await page.waitForFunction(() => JSON.parse(localStorage.getItem('sb.token') ?? '{}').token === 'not-a-valid-token');
  const renewals: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/v1/auth/dev-token')) renewals.push(r.url());
  });
  await context.setOffline(false);

  await waitForAnswerDone(page, 60_000);
  // Still signed in, with a fresh token, and the stored answer is the whole one.
  expect(page.url()).toMatch(/\/chat\//);
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('sb.token') ?? '{}').token as string);
  expect(token).not.toBe('not-a-valid-token');
  expect(renewals.length).toBeGreaterThanOrEqual(1);
  const id = /\/chat\/([^/]+)$/.exec(page.url())![1]!;
  const stored = await page.evaluate(async ({ id, token }) => {
    const res = await fetch(`/v1/conversations/${id}`, { headers: { Authorization: `Bearer ${token}` } });
    return (await res.json()) as { messages: { role: string; content: { text?: string }[] }[] };
  }, { id, token });
  const answer = stored.messages.find((m) => m.role === 'assistant')!.content[0]!.text;
  expect(answer).toBe(expectedAnswer(prompt).text);
  await lastAnswer(page).getByTestId('message-usage').waitFor();
  expect(await page.getByTestId('message-error').count()).toBe(0);
  expect(errors).toEqual([]);
  await context.close();
});
