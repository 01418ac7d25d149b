import { chromiumForThisFile, lastAnswer, newPage, sendMessage, signIn, waitForAnswerDone } from '../support/browser';

// Issue 18 item 7: many tabs, one user.
const browser = chromiumForThisFile();

test('a second tab is signed in and sees conversations, messages and streams started in the first, without reload', async () => {
  const { context, page: first, errors } = await newPage(browser());
  await signIn(first);
  // A link opened in a new tab of the same browser: signed in.
  const second = await context.newPage();
  second.setDefaultTimeout(15_000);
  await second.goto('/chat');
  await second.getByTestId('composer-input').waitFor();
  expect(second.url()).toMatch(/\/chat/);

  await sendMessage(first, 'Started in the first tab [[emulator:tokens=10]]');
  await waitForAnswerDone(first);
  await first.waitForURL(/\/chat\/[^/]+$/);
  const id = /\/chat\/([^/]+)$/.exec(first.url())![1]!;
  // The new conversation appears in the other tab's list.
  await second.locator(`[data-testid="conversation-item"] a[href$="${id}"], [data-testid="conversation-item"][data-id="${id}"]`).first().waitFor();
  await second.goto(`/chat/${id}`);
  await waitForAnswerDone(second);

  // A message and its streaming answer started in the first tab show up live in the second.
  await sendMessage(first, 'And a longer follow-up [[emulator:tokens=60,tps=30]]');
  await second.locator('[data-testid="message"][data-role="user"]').nth(1).waitFor();
  await second.locator('[data-testid="message"][data-role="assistant"]').nth(1).waitFor();
  await waitForAnswerDone(first);
  await second.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]').nth(1).waitFor({ timeout: 30_000 });
  expect(await lastAnswer(second).getByTestId('message-content').innerText()).toBe(await lastAnswer(first).getByTestId('message-content').innerText());
  expect(errors).toEqual([]);
  await context.close();
});
