import { axeViolations, chromiumForThisFile, newPage, sendMessage, signIn, waitForAnswerDone } from '../support/browser';

const browser = chromiumForThisFile();

test('switches to Simplified Chinese at runtime and remembers it', async () => {
  const { context, page, errors } = await newPage(browser());
  await page.goto('/sign-in');
  expect((await page.getByTestId('signin-submit').innerText()).trim()).toBe('Sign in');
  await page.getByTestId('lang-menu').click();
  await page.getByTestId('lang-zh-CN').click();
  await page.getByTestId('signin-submit').filter({ hasText: '登录' }).waitFor();
  expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
  await signIn(page);
  expect((await page.getByTestId('send-button').innerText()).trim()).toBe('发送');
  expect((await page.getByTestId('new-conversation').innerText()).trim()).toContain('新对话');
  await page.reload();
  await page.getByTestId('send-button').filter({ hasText: '发送' }).waitFor();
  await page.getByTestId('lang-menu').click();
  await page.getByTestId('lang-en').click();
  await page.getByTestId('send-button').filter({ hasText: 'Send' }).waitFor();
  expect(errors).toEqual([]);
  await context.close();
});

test('defaults to Chinese for a Chinese browser', async () => {
  const { context, page } = await newPage(browser(), { locale: 'zh-CN' });
  await page.goto('/sign-in');
  await page.getByTestId('signin-submit').filter({ hasText: '登录' }).waitFor();
  await context.close();
});

test('toggles dark and light theme, remembered after reload; dark chat view passes axe', async () => {
  const { context, page } = await newPage(browser(), { colorScheme: 'light' });
  await signIn(page);
  const isDark = () => page.evaluate(() => document.documentElement.classList.contains('theme-dark'));
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(await isDark()).toBe(false);
  const lightBg = await background();
  await page.getByTestId('theme-toggle').click();
  expect(await isDark()).toBe(true);
  expect(await background()).not.toBe(lightBg);
  await page.reload();
  await page.getByTestId('composer-input').waitFor();
  expect(await isDark()).toBe(true);
  await sendMessage(page, 'Dark mode check [[emulator:tokens=60]]');
  await waitForAnswerDone(page);
  expect(await axeViolations(page)).toEqual([]);
  await page.getByTestId('theme-toggle').click();
  expect(await isDark()).toBe(false);
  await context.close();
});
