import { chromiumForThisFile, lastAnswer, newPage, sendMessage, signIn, waitForAnswerDone } from '../support/browser';
import { promptWithCode } from '../support/fixtures';

// Issue 18 items 9-11: code like the tools people know, layout details, languages.
const browser = chromiumForThisFile();

test('code blocks carry their language and a copy button; long questions fold with "show more"', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  const { prompt, answer } = promptWithCode();
  await sendMessage(page, prompt);
  await waitForAnswerDone(page);
  const block = lastAnswer(page).locator('[data-testid="code-lang"]').first();
  expect(await block.innerText()).toBe('ts');
  await lastAnswer(page).getByTestId('code-copy').first().click();
  const code = /```ts\n([\s\S]*?)\n```/.exec(answer)![1]!;
  await page.waitForFunction((c) => navigator.clipboard.readText().then((t) => t === c), code);

  const long = `${'A pasted log line that goes on and on.\n'.repeat(40)}[[emulator:tokens=5]]`;
  await sendMessage(page, long);
  await waitForAnswerDone(page);
  const question = page.locator('[data-testid="message"][data-role="user"]').last();
  const content = question.getByTestId('message-content');
  const folded = await content.evaluate((el) => ({ shown: el.clientHeight, full: el.scrollHeight }));
  expect(folded.shown).toBeLessThan(folded.full);
  await question.getByTestId('show-more').click();
  await page.waitForFunction(() => {
    const el = [...document.querySelectorAll('[data-role="user"] [data-testid="message-content"]')].at(-1) as HTMLElement;
    return el.clientHeight >= el.scrollHeight;
  });
  expect(errors).toEqual([]);
  await context.close();
});

test('the phone header fits in one line with usage shown; the model picker shows capabilities as icons', async () => {
  const { context, page } = await newPage(browser(), { viewport: { width: 390, height: 844 } });
  await signIn(page);
  await sendMessage(page, 'A short question from a phone [[emulator:tokens=10]]');
  await waitForAnswerDone(page);
  await page.getByTestId('conversation-usage').waitFor();
  const head = await page.locator('.chat-head').boundingBox();
  expect(head!.height).toBeLessThanOrEqual(64);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  // The picker shows the model's name only (capabilities are icons in the list).
  expect((await page.getByTestId('model-select').innerText()).trim()).toBe('Claude 3 Haiku');
  await page.getByTestId('model-select').click();
  const option = page.locator('mat-option[data-model-id="anthropic.claude-3-haiku-20240307-v1:0"]');
  await option.getByTestId('cap-vision').waitFor();
  await option.getByTestId('cap-documents').waitFor();
  await page.keyboard.press('Escape');
  await context.close();
});

test('the first visit follows the browser language: Japanese and Korean', async () => {
  for (const [locale, title] of [['ja-JP', 'Switchboard にサインイン'], ['ko-KR', 'Switchboard에 로그인']] as const) {
    const { context, page } = await newPage(browser(), { locale });
    await page.goto('/');
    await page.locator('h1', { hasText: title }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe(locale.slice(0, 2));
    await context.close();
  }
});
