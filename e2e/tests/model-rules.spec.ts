import type { Page } from 'playwright-core';
import { chromiumForThisFile, lastAnswer, newPage, sendMessage, signIn, waitForAnswerDone } from '../support/browser';
import { expectedAnswer, selectModel } from '../support/fixtures';
import { testModels } from '../support/stack';

const browser = chromiumForThisFile();
const sonnet45 = testModels[4]!.id;
const opus47 = testModels[5]!.id;
const opus55 = testModels[6]!.id;

async function openParams(page: Page): Promise<void> {
  await page.getByTestId('settings-button').click();
  await page.getByTestId('settings-save').waitFor();
  await page.getByRole('tab', { name: /Model parameters|模型参数/ }).click();
  await page.getByTestId('param-maxTokens').waitFor();
}

const visible = (page: Page, testId: string) => page.getByTestId(testId).isVisible();

test('settings offer only what the model accepts: temperature or top P, top K, thinking', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  // Claude 3 Haiku takes both sampling parameters and no thinking.
  await openParams(page);
  expect(await visible(page, 'param-temperature')).toBe(true);
  expect(await visible(page, 'param-topP')).toBe(true);
  expect(await visible(page, 'param-sampling')).toBe(false);
  expect(await visible(page, 'param-thinking')).toBe(false);
  await page.getByTestId('settings-cancel').click();

  await selectModel(page, sonnet45);
  await openParams(page);
  expect(await visible(page, 'param-sampling')).toBe(true);
  expect(await visible(page, 'param-temperature')).toBe(true);
  expect(await visible(page, 'param-topP')).toBe(false);
  expect(await visible(page, 'param-effort')).toBe(false); // Sonnet 4.5 takes no effort
  await page.getByTestId('sampling-topP').click();
  await page.getByTestId('param-topP').waitFor();
  expect(await visible(page, 'param-temperature')).toBe(false);
  expect(await visible(page, 'param-topK')).toBe(true);
  // Thinking: a budget from the model's minimum; temperature, top P and top K give way.
  await page.getByTestId('param-thinking').locator('input').check();
  await page.getByTestId('param-thinkingBudget').waitFor();
  expect(await page.getByTestId('param-thinkingBudget').inputValue()).toBe('1024');
  expect(await visible(page, 'param-topK')).toBe(false);
  expect(await visible(page, 'param-sampling')).toBe(false);
  await page.getByTestId('param-thinkingBudget').fill('100');
  await page.getByTestId('settings-save').click();
  expect(await page.getByTestId('param-error-thinkingBudget').innerText()).toContain('between 1024 and 63999');
  await page.getByTestId('param-thinkingBudget').fill('2048');
  await page.getByTestId('settings-save').click();
  await page.getByTestId('settings-save').waitFor({ state: 'detached' });

  // The answer's thinking streams into a collapsed "Thinking" section and stays with the message.
  const prompt = 'Think it over [[emulator:thinking=25,tokens=30]]';
  await sendMessage(page, prompt);
  await waitForAnswerDone(page);
  const answer = lastAnswer(page);
  const reasoning = answer.getByTestId('message-reasoning');
  await reasoning.waitFor();
  expect(await reasoning.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
  expect(await answer.getByTestId('message-content').innerText()).toContain(expectedAnswer(prompt, sonnet45).text.split(' ').slice(0, 3).join(' '));
  await reasoning.locator('summary').click();
  expect((await answer.getByTestId('message-reasoning-text').innerText()).length).toBeGreaterThan(20);
  await page.reload();
  await lastAnswer(page).getByTestId('message-reasoning').waitFor();
  expect(errors).toEqual([]);
  await context.close();
});

test('Opus 5.5 thinks on every answer: the settings say so, and its thinking is not shown unless asked', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  await selectModel(page, opus55);
  await openParams(page);
  expect(await page.getByTestId('thinking-hint').innerText()).toContain('thinks on every answer');
  // Without a chosen level it works at medium effort, not high like the others.
  await page.getByTestId('param-effort').click();
  expect(await page.getByTestId('effort-default').innerText()).toContain("The model's own level (medium)");
  await page.keyboard.press('Escape');
  await page.getByTestId('settings-cancel').click();
  await sendMessage(page, 'Plan it [[emulator:thinking=15,tokens=20]]');
  await waitForAnswerDone(page);
  expect(await lastAnswer(page).getByTestId('message-reasoning').count()).toBe(0);
  expect(errors).toEqual([]);
  await context.close();
});

test('Opus 4.7: no sampling settings, thinking is adaptive (the budget makes room and the answer thinks), and every effort level is offered', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  await selectModel(page, opus47);
  await openParams(page);
  for (const id of ['param-temperature', 'param-topP', 'param-topK', 'param-sampling']) expect([id, await visible(page, id)]).toEqual([id, false]);
  expect(await page.getByTestId('no-sampling-hint').innerText()).toContain('Claude Opus 4.7');
  await page.getByTestId('param-thinking').locator('input').check();
  await page.getByTestId('param-thinkingBudget').waitFor();
  await page.getByTestId('param-effort').click();
  const levels = page.locator('mat-option');
  await levels.first().waitFor();
  expect(await page.getByTestId('effort-default').innerText()).toContain("The model's own level (high)");
  expect(await levels.evaluateAll((options) => options.map((o) => o.getAttribute('data-testid')))).toEqual(
    ['default', 'low', 'medium', 'high', 'xhigh', 'max'].map((level) => `effort-${level}`),
  );
  await page.getByTestId('effort-xhigh').click();
  await page.getByTestId('settings-save').click();
  await page.getByTestId('settings-save').waitFor({ state: 'detached' });
  // The strict emulator refuses an effort sent wrongly: the answer streams only if it went as Bedrock takes it.
  await sendMessage(page, 'Think adaptively [[emulator:thinking=15,tokens=20]]');
  await waitForAnswerDone(page);
  await lastAnswer(page).getByTestId('message-reasoning').waitFor();
  await openParams(page);
  expect(await page.getByTestId('param-effort').innerText()).toContain('Extra high');
  await page.getByTestId('settings-cancel').click();
  expect(errors).toEqual([]);
  await context.close();
});
