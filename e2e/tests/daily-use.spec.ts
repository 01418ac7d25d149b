import { emulatorAnswer } from '@switchboard/bedrock-emulator';
import { cleanTitle, titleRequest } from '@switchboard/server-core';
import type { Page } from 'playwright-core';
import { chromiumForThisFile, lastAnswer, newPage, sendMessage, signIn, waitForAnswerDone } from '../support/browser';
import { apiAs, defaultModelId, injectFault } from '../support/fixtures';

// Issue 18: what a person who lives in the portal all day trips over.
const browser = chromiumForThisFile();

const LONG = '[[emulator:tokens=2000,tps=40]]';

type StoredMessage = { id: string; role: string; status: string; content: { type: string; text?: string }[]; usage: { inputTokens: number; outputTokens: number } | null; cost?: number | null };
type StoredConversation = { id: string; title: string; messages: StoredMessage[]; usage?: { inputTokens: number; outputTokens: number; cost: number } };

const conversationIdOf = (page: Page) => /\/chat\/([^/?#]+)/.exec(page.url())?.[1] ?? '';

/** The title the governor's batch lane gets from the (deterministic) emulator for this first exchange. */
function expectedTitle(question: string, answer: string): string {
  const req = titleRequest(question, answer);
  const reply = emulatorAnswer({
    modelId: defaultModelId,
    system: [{ text: req.system }],
    messages: [{ role: 'user', content: [{ text: req.prompt }] }],
    inferenceConfig: { maxTokens: req.maxTokens },
  });
  return cleanTitle(reply.text)!;
}

test('a chat started from Settings gets a model-written title, and first words until then', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  // System prompt saved first: the conversation exists before any message ("New conversation").
  await page.getByTestId('settings-button').click();
  await page.getByTestId('settings-system-prompt').fill('You are a concise travel planner.');
  await page.getByTestId('settings-save').click();
  await page.waitForURL(/\/chat\/[^/]+$/);
  const question = 'Plan a weekend in Kyoto for two [[emulator:tokens=25]]';
  await sendMessage(page, question);
  await waitForAnswerDone(page);
  const id = conversationIdOf(page);
  const stored = (await apiAs<StoredConversation>(page, `/v1/conversations/${id}`)).body;
  const answer = stored.messages.find((m) => m.role === 'assistant')!.content.map((b) => b.text ?? '').join('');
  const title = expectedTitle(question, answer);
  expect(title.length).toBeGreaterThan(1);
  // Pushed to the page (conversation:updated), no reload: the heading and the sidebar.
  await page.locator('[data-testid="conversation-title"]', { hasText: title }).waitFor();
  await page.locator('[data-testid="conversation-item"]', { hasText: title }).first().waitFor();
  expect((await apiAs<StoredConversation>(page, `/v1/conversations/${id}`)).body.title).toBe(title);
  expect(errors).toEqual([]);
  await context.close();
});

test('a stopped answer records its usage: shown at once, after a reload and in the conversation total', async () => {
  const { context, page } = await newPage(browser());
  await signIn(page);
  await sendMessage(page, `Tell me everything ${LONG}`);
  await page.waitForFunction(() => (document.querySelector('[data-role="assistant"] [data-testid="markdown"]')?.textContent ?? '').length > 40);
  await page.getByTestId('stop-button').click();
  await lastAnswer(page).getByTestId('message-stopped').waitFor();
  const usage = lastAnswer(page).getByTestId('message-usage');
  await usage.waitFor();
  const outOf = (text: string) => Number((/([\d,]+) out/.exec(text)?.[1] ?? '0').replace(/,/g, ''));
  await page.waitForFunction(() => /[1-9][\d,]* out/.test(document.querySelector('[data-role="assistant"] [data-testid="message-usage"]')?.textContent ?? ''));
  expect(await lastAnswer(page).getByTestId('message-cost').innerText()).not.toBe('$0.00');

  const id = conversationIdOf(page);
  const stored = (await apiAs<StoredConversation>(page, `/v1/conversations/${id}`)).body;
  const answer = stored.messages.find((m) => m.role === 'assistant')!;
  expect(answer.status).toBe('cancelled');
  expect(answer.usage!.outputTokens).toBeGreaterThan(0);
  expect(answer.usage!.inputTokens).toBeGreaterThan(0);
  expect(answer.cost).toBeGreaterThan(0);
  expect(stored.usage!.outputTokens).toBe(answer.usage!.outputTokens);

  await page.reload();
  await lastAnswer(page).getByTestId('message-usage').waitFor();
  expect(outOf(await lastAnswer(page).getByTestId('message-usage').innerText())).toBe(answer.usage!.outputTokens);
  expect(outOf(await page.getByTestId('conversation-usage').innerText())).toBe(answer.usage!.outputTokens);
  await context.close();
});

test('nothing typed is lost: limits are counted before sending, a refusal keeps the text with one human message', async () => {
  const { context, page } = await newPage(browser(), { locale: 'zh-CN' });
  await signIn(page);
  const box = page.getByTestId('composer-input');
  const tooLong = 'x'.repeat(200_001);
  await box.fill(tooLong);
  await page.getByTestId('composer-count').waitFor();
  expect(await page.getByTestId('send-button').isDisabled()).toBe(true);
  await box.press('Enter');
  expect((await box.inputValue()).length).toBe(200_001);
  expect(await page.locator('[data-testid="message"]').count()).toBe(0);

  // A refusal by the server (the conversation was deleted meanwhile): the text stays, one message in Chinese.
  await sendMessage(page, 'First message [[emulator:tokens=5]]');
  await waitForAnswerDone(page);
  const id = conversationIdOf(page);
  expect((await apiAs(page, `/v1/conversations/${id}`, { method: 'DELETE' })).status).toBe(204);
  const kept = 'A long paragraph I do not want to type again.';
  await box.fill(kept);
  await page.getByTestId('send-button').click();
  await page.getByTestId('send-error').waitFor();
  expect(await box.inputValue()).toBe(kept);
  expect(await page.getByTestId('send-error').innerText()).toBe('该项目已不存在。');
  expect(await page.getByTestId('send-error').count()).toBe(1);
  expect(await page.getByTestId('message-error').count()).toBe(0);
  await context.close();
});

test('a failed answer is retried in place, without a reload', async () => {
  const { context, page } = await newPage(browser());
  await signIn(page);
  // Only this test's prompt: other files' chats share the stack when e2e runs files in parallel.
  await injectFault({ type: 'streamError', model: defaultModelId, promptContains: 'Explain the quota governor', afterTokens: 4, exception: 'validationException', count: 1 });
  await sendMessage(page, 'Explain the quota governor [[emulator:tokens=30]]');
  await lastAnswer(page).getByTestId('message-error').waitFor({ timeout: 30_000 });
  // The failed call's delivered tokens are recorded too.
  await page.waitForFunction(() => /[1-9][\d,]* out/.test(document.querySelector('[data-role="assistant"] [data-testid="message-usage"]')?.textContent ?? ''));
  await lastAnswer(page).getByTestId('retry-answer').click();
  await page.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]').waitFor({ timeout: 30_000 });
  expect(await page.locator('[data-testid="message"][data-role="assistant"]').count()).toBe(1);
  expect(await page.locator('[data-testid="message"][data-role="user"]').count()).toBe(1);
  expect(await page.getByTestId('message-error').count()).toBe(0);
  await context.close();
});

test('focus and keys: focus returns to the box after Send, Esc stops from anywhere, the focus ring shows', async () => {
  const { context, page } = await newPage(browser());
  await signIn(page);
  await page.getByTestId('composer-input').fill(`A long one ${LONG}`);
  await page.getByTestId('send-button').click();
  await page.getByTestId('stop-button').waitFor();
  await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'composer-input');
  await page.waitForFunction(() => (document.querySelector('[data-role="assistant"] [data-testid="markdown"]')?.textContent ?? '').length > 5);
  // Focus elsewhere on the page (nothing focused): Esc still stops the answer.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('Escape');
  await page.locator('[data-testid="message"][data-role="assistant"][data-status="cancelled"]').waitFor();
  // A keyboard-focused button has a visible ring.
  await page.getByTestId('composer-input').focus();
  await page.keyboard.press('Shift+Tab');
  const outline = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const style = getComputedStyle(el);
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });
  expect(outline.style).not.toBe('none');
  expect(outline.width).toBeGreaterThanOrEqual(2);
  await context.close();
});

test('offline is shown as such; a send while offline waits and goes out once on reconnect', async () => {
  const { context, page } = await newPage(browser());
  await signIn(page);
  await sendMessage(page, 'Hello before going offline [[emulator:tokens=5]]');
  await waitForAnswerDone(page);
  await context.setOffline(true);
  await page.locator('[data-testid="connection-state"][data-state="offline"]').waitFor();
  await sendMessage(page, 'Sent while offline [[emulator:tokens=8]]');
  await lastAnswer(page).getByTestId('message-offline').waitFor();
  expect(await lastAnswer(page).getByTestId('message-state').innerText()).not.toContain('Waiting in line');
  await context.setOffline(false);
  await page.getByTestId('connection-state').waitFor({ state: 'detached' });
  await page.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]').nth(1).waitFor({ timeout: 30_000 });
  const id = conversationIdOf(page);
  const stored = (await apiAs<StoredConversation>(page, `/v1/conversations/${id}`)).body;
  expect(stored.messages.filter((m) => m.role === 'user').map((m) => m.content[0]!.text)).toEqual([
    'Hello before going offline [[emulator:tokens=5]]',
    'Sent while offline [[emulator:tokens=8]]',
  ]);
  await context.close();
});
