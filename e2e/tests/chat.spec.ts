import { readFile } from 'node:fs/promises';
import {
  axeViolations, lastAnswer, chromiumForThisFile, newPage, sendMessage, signIn, waitForAnswerDone,
} from '../support/browser';
import { expectedAnswer, promptWithCode } from '../support/fixtures';

const browser = chromiumForThisFile();

const LONG = '[[emulator:tokens=2000,tps=40]]';

test('streams an answer rendered as sanitised markdown with highlighted code', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  const { prompt, answer } = promptWithCode();
  await sendMessage(page, prompt);
  // The Stop button is there while the answer streams.
  await page.getByTestId('stop-button').waitFor();
  await waitForAnswerDone(page);
  await page.getByTestId('stop-button').waitFor({ state: 'detached' });
  const content = lastAnswer(page).locator('[data-testid="markdown"]');
  await content.locator('pre code.hljs').first().waitFor();
  expect(await content.locator('pre code.hljs span[class^="hljs-"]').count()).toBeGreaterThan(0);
  // Deterministic emulator answer: the first words appear as rendered text.
  const firstWords = answer.replace(/^#+\s*/, '').split(/\s+/).slice(0, 3).join(' ');
  expect(await content.innerText()).toContain(firstWords);
  // The new conversation got a URL and shows in the list.
  await page.waitForURL(/\/chat\/[^/]+$/);
  await page.getByTestId('conversation-item').first().waitFor();
  // Usage and cost from the catalog prices.
  const expected = expectedAnswer(prompt);
  expect(await lastAnswer(page).getByTestId('message-usage').innerText()).toContain(`${expected.outputTokens} out`);
  expect(await lastAnswer(page).getByTestId('message-cost').innerText()).toMatch(/\$\d/);
  await page.getByTestId('conversation-usage').waitFor();
  expect(await axeViolations(page)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
});

test('Stop ends a long answer and keeps the partial text', async () => {
  const { context, page } = await newPage(browser());
  await signIn(page);
  await sendMessage(page, `Tell me everything ${LONG}`);
  const content = lastAnswer(page).locator('[data-testid="markdown"]');
  await content.waitFor();
  await page.waitForFunction(() => (document.querySelector('[data-role="assistant"] [data-testid="markdown"]')?.textContent ?? '').length > 20);
  await page.getByTestId('stop-button').click();
  await page.getByTestId('stop-button').waitFor({ state: 'detached' });
  await page.getByTestId('send-button').waitFor();
  await lastAnswer(page).getByTestId('message-stopped').waitFor();
  const partial = await content.innerText();
  expect(partial.length).toBeGreaterThan(10);
  await page.waitForTimeout(800);
  const later = await content.innerText();
  expect(later.length).toBeLessThan(partial.length + 200);
  // The server kept the partial answer.
  await page.waitForURL(/\/chat\/[^/]+$/);
  await page.reload();
  await lastAnswer(page).locator('[data-testid="markdown"]').waitFor();
  expect((await lastAnswer(page).locator('[data-testid="markdown"]').innerText()).length).toBeGreaterThan(10);
  await context.close();
});

test('keyboard: Enter sends, Shift+Enter adds a line, Escape stops', async () => {
  const { context, page } = await newPage(browser());
  await signIn(page);
  const box = page.getByTestId('composer-input');
  await box.click();
  await page.keyboard.type('line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type(`line two ${LONG}`);
  expect(await box.inputValue()).toBe(`line one\nline two ${LONG}`);
  await page.keyboard.press('Enter');
  const user = page.locator('[data-testid="message"][data-role="user"]').last();
  expect(await user.getByTestId('message-content').innerText()).toBe(`line one\nline two ${LONG}`);
  expect(await box.inputValue()).toBe('');
  await page.waitForFunction(() => (document.querySelector('[data-role="assistant"] [data-testid="markdown"]')?.textContent ?? '').length > 5);
  await page.keyboard.press('Escape');
  await page.getByTestId('stop-button').waitFor({ state: 'detached' });
  await page.locator('[data-testid="message"][data-role="assistant"][data-status="cancelled"]').waitFor();
  await context.close();
});

test('copies a message and exports the conversation as Markdown and JSON', async () => {
  const { context, page } = await newPage(browser());
  await signIn(page);
  const prompt = 'Summarise the design [[emulator:tokens=40]]';
  await sendMessage(page, prompt);
  await waitForAnswerDone(page);
  const answer = expectedAnswer(prompt).text;

  await lastAnswer(page).getByTestId('copy-message').click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(answer);

  await page.getByTestId('export-menu').click();
  const [md] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-markdown').click()]);
  expect(md.suggestedFilename()).toMatch(/\.md$/);
  const markdown = await readFile((await md.path())!, 'utf8');
  expect(markdown).toMatch(/^# /);
  expect(markdown).toContain(prompt);
  expect(markdown).toContain(answer);

  await page.getByTestId('export-menu').click();
  const [js] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
  expect(js.suggestedFilename()).toMatch(/\.json$/);
  const json = JSON.parse(await readFile((await js.path())!, 'utf8')) as {
    conversation: { id: string }; messages: { role: string; usage: unknown; content: { text?: string }[] }[];
  };
  expect(json.conversation.id).toBeTruthy();
  expect(json.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
  expect(json.messages[1]!.content[0]!.text).toBe(answer);
  expect(json.messages[1]!.usage).toEqual(expect.objectContaining({ outputTokens: expectedAnswer(prompt).outputTokens }));
  await context.close();
});

test('works on a phone-sized screen', async () => {
  const { context, page, errors } = await newPage(browser(), { viewport: { width: 390, height: 844 } });
  await signIn(page);
  await sendMessage(page, 'Hello from a phone [[emulator:tokens=30]]');
  await waitForAnswerDone(page);
  // The conversation list is a drawer behind a menu button.
  await page.getByTestId('open-conversations').click();
  await page.getByTestId('conversation-item').first().waitFor({ state: 'visible' });
  await page.getByTestId('conversation-link').first().click();
  await page.getByTestId('conversation-item').first().waitFor({ state: 'hidden' });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  // Every toolbar control is on screen.
  for (const id of ['nav-chat', 'nav-jobs', 'lang-menu', 'theme-toggle', 'user-menu']) {
    const box = (await page.getByTestId(id).boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
  }
  expect(await axeViolations(page)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
});
