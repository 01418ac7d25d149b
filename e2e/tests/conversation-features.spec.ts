import type { Page } from 'playwright-core';
import { axeViolations, lastAnswer, chromiumForThisFile, newPage, sendMessage, signIn, waitForAnswerDone } from '../support/browser';

const browser = chromiumForThisFile();

const userMessages = (page: Page) => page.locator('[data-testid="message"][data-role="user"]');
const completeAnswers = (page: Page) => page.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]');

async function openSettings(page: Page): Promise<void> {
  await page.getByTestId('settings-button').click();
  await page.getByTestId('settings-save').waitFor();
}

async function paramsTab(page: Page): Promise<void> {
  await page.getByRole('tab', { name: /Model parameters|模型参数/ }).click();
  await page.getByTestId('param-maxTokens').waitFor();
}

test('model parameters are checked against the model limits, saved and shown again', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  await openSettings(page);
  await paramsTab(page);
  await page.getByTestId('param-maxTokens').fill('99999');
  await page.getByTestId('param-compressThreshold').fill('100');
  await page.getByTestId('param-temperature').fill('1.5');
  await page.getByTestId('settings-save').click();
  await page.getByTestId('settings-error').waitFor();
  expect(await page.getByTestId('param-error-maxTokens').innerText()).toContain('between 1 and 4096');
  expect(await page.getByTestId('param-error-compressThreshold').innerText()).toContain('500');
  expect(await page.getByTestId('param-error-temperature').innerText()).toContain('between 0 and 1');
  expect(await axeViolations(page)).toEqual([]);

  await page.getByTestId('param-maxTokens').fill('500');
  await page.getByTestId('param-compressThreshold').fill('0');
  await page.getByTestId('param-temperature').fill('0.3');
  await page.getByTestId('param-topK').fill('40');
  await page.getByTestId('param-historyMessages').fill('12');
  await page.getByTestId('settings-save').click();
  await page.getByTestId('settings-save').waitFor({ state: 'detached' });
  // Saving settings on a new chat creates the conversation.
  await page.waitForURL(/\/chat\/[^/]+$/);
  await page.reload();
  await page.getByTestId('composer-input').waitFor();
  await openSettings(page);
  await paramsTab(page);
  expect(await page.getByTestId('param-maxTokens').inputValue()).toBe('500');
  expect(await page.getByTestId('param-temperature').inputValue()).toBe('0.3');
  expect(await page.getByTestId('param-topK').inputValue()).toBe('40');
  expect(await page.getByTestId('param-historyMessages').inputValue()).toBe('12');
  await page.getByTestId('settings-cancel').click();
  // The saved parameters are used for the next answer.
  await sendMessage(page, 'With my parameters [[emulator:tokens=30]]');
  await waitForAnswerDone(page);
  expect(errors).toEqual([]);
  await context.close();
});

test('preset prompts: browse and search in the current language, apply, save, edit and delete my own', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  await openSettings(page);
  const items = page.getByTestId('prompt-item');
  await items.first().waitFor();
  const presetCount = await page.locator('[data-testid="prompt-item"][data-owner="system"]').count();
  expect(presetCount).toBeGreaterThan(3);
  const firstTitle = (await items.first().locator('.prompt-title').innerText()).trim();
  await page.getByTestId('prompt-search').fill(firstTitle);
  expect(await items.count()).toBeLessThan(presetCount);
  await items.first().getByTestId('prompt-apply').click();
  const systemPrompt = await page.getByTestId('settings-system-prompt').inputValue();
  expect(systemPrompt.length).toBeGreaterThan(10);
  await page.getByTestId('prompt-search').fill('');

  // Save my own prompt, edit it, delete it.
  await page.getByTestId('settings-system-prompt').fill('You answer like a pirate.');
  await page.getByTestId('prompt-title').fill('Pirate');
  await page.getByTestId('prompt-save').click();
  const mine = page.locator('[data-testid="prompt-item"][data-owner="me"]');
  await mine.filter({ hasText: 'Pirate' }).waitFor();
  await mine.first().getByTestId('prompt-edit').click();
  await page.getByTestId('prompt-title').fill('Pirate captain');
  await page.getByTestId('prompt-save').click();
  await mine.filter({ hasText: 'Pirate captain' }).waitFor();
  expect(await axeViolations(page)).toEqual([]);
  await page.getByTestId('settings-save').click();
  await page.waitForURL(/\/chat\/[^/]+$/);
  await page.reload();
  await page.getByTestId('composer-input').waitFor();
  await openSettings(page);
  expect(await page.getByTestId('settings-system-prompt').inputValue()).toBe('You answer like a pirate.');
  await mine.filter({ hasText: 'Pirate captain' }).waitFor();
  // Deleting asks first: dismissed, the prompt stays; accepted, it goes.
  const asked: string[] = [];
  page.once('dialog', (d) => {
    asked.push(d.message());
    void d.dismiss();
  });
  await mine.first().getByTestId('prompt-delete').click();
  expect(asked).toEqual([expect.stringContaining('Pirate captain')]);
  expect(await mine.count()).toBe(1);
  page.once('dialog', (d) => void d.accept());
  await mine.first().getByTestId('prompt-delete').click();
  await mine.waitFor({ state: 'detached' });
  await page.getByTestId('settings-cancel').click();

  // Chinese presets in Chinese.
  await page.getByTestId('lang-menu').click();
  await page.getByTestId('lang-zh-CN').click();
  await openSettings(page);
  await items.first().waitFor();
  const zhTitle = (await items.first().locator('.prompt-title').innerText()).trim();
  expect(zhTitle).not.toBe(firstTitle);
  expect(zhTitle).toMatch(/[\u4e00-\u9fff]/);
  await page.getByTestId('settings-cancel').click();
  expect(errors).toEqual([]);
  await context.close();
});

test('regenerate and edit-and-resend make branches that stay viewable with a 1/2 switcher', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  await sendMessage(page, 'Tell me about queues [[emulator:tokens=30]]');
  await waitForAnswerDone(page);
  await page.waitForURL(/\/chat\/[^/]+$/);

  // Regenerate the answer: the new one is 2/2, the first is still there.
  await lastAnswer(page).getByTestId('regenerate').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="message"][data-role="assistant"]')?.getAttribute('data-status') !== 'complete');
  await waitForAnswerDone(page);
  await lastAnswer(page).getByTestId('branch-position').filter({ hasText: '2/2' }).waitFor();
  await lastAnswer(page).getByTestId('branch-prev').click();
  await lastAnswer(page).getByTestId('branch-position').filter({ hasText: '1/2' }).waitFor();
  await lastAnswer(page).getByTestId('branch-next').click();
  await lastAnswer(page).getByTestId('branch-position').filter({ hasText: '2/2' }).waitFor();

  // Edit the question and resend: a second version of the user message with its own answer.
  await userMessages(page).last().getByTestId('edit-message').click();
  await page.getByTestId('edit-input').fill('Tell me about workers instead [[emulator:tokens=30]]');
  await page.getByTestId('edit-send').click();
  await waitForAnswerDone(page);
  const question = userMessages(page).last();
  await question.getByTestId('branch-position').filter({ hasText: '2/2' }).waitFor();
  expect(await question.getByTestId('message-content').innerText()).toContain('workers instead');
  expect(await userMessages(page).count()).toBe(1);
  await question.getByTestId('branch-prev').click();
  await userMessages(page).last().getByTestId('branch-position').filter({ hasText: '1/2' }).waitFor();
  expect(await userMessages(page).last().getByTestId('message-content').innerText()).toContain('about queues');
  // The earlier branch keeps its own two answers.
  await lastAnswer(page).getByTestId('branch-position').filter({ hasText: '/2' }).waitFor();
  // After a reload the chosen branch is still shown.
  await page.reload();
  await userMessages(page).last().getByTestId('branch-position').filter({ hasText: '1/2' }).waitFor();
  expect(await completeAnswers(page).count()).toBe(1);
  expect(await axeViolations(page)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
});

test('search finds conversations by their messages and shows a snippet', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  const word = `zebrafish${Date.now().toString(36)}`;
  await sendMessage(page, `Notes on the ${word} experiment [[emulator:tokens=20]]`);
  await waitForAnswerDone(page);
  await page.getByTestId('new-conversation').click();
  await sendMessage(page, 'Something else entirely [[emulator:tokens=20]]');
  await waitForAnswerDone(page);
  await page.getByTestId('conversation-search').fill(word);
  const snippet = page.getByTestId('conversation-snippet');
  await snippet.first().waitFor();
  expect(await page.getByTestId('conversation-item').count()).toBe(1);
  expect((await snippet.first().locator('mark').first().innerText()).toLowerCase()).toBe(word.toLowerCase());
  expect(await snippet.first().innerText()).toContain('experiment');
  expect(await axeViolations(page)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
});

test('history compression: the conversation shows the summary of older messages', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  await openSettings(page);
  await paramsTab(page);
  await page.getByTestId('param-compressThreshold').fill('500');
  await page.getByTestId('settings-save').click();
  await page.waitForURL(/\/chat\/[^/]+$/);
  for (let i = 1; i <= 3; i++) {
    await sendMessage(page, `Part ${i} of a long talk [[emulator:tokens=400]]`);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="message"][data-role="assistant"][data-status="complete"]').length >= n, i, { timeout: 30_000 });
  }
  await page.getByTestId('history-summary').waitFor({ timeout: 15_000 });
  await page.getByTestId('history-summary').locator('summary').click();
  expect((await page.getByTestId('history-summary').innerText()).length).toBeGreaterThan(20);
  await page.reload();
  await page.getByTestId('history-summary').waitFor();
  expect(errors).toEqual([]);
  await context.close();
});
