import { chromiumForThisFile, newPage, sendMessage, signIn, waitForAnswerDone } from '../support/browser';

const browser = chromiumForThisFile();

test('renames and deletes a conversation', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  await sendMessage(page, 'First question [[emulator:tokens=30]]');
  await waitForAnswerDone(page);
  await page.waitForURL(/\/chat\/[^/]+$/);
  const item = page.getByTestId('conversation-item').first();
  await item.waitFor();

  await item.getByTestId('conversation-menu').click();
  await page.getByTestId('conversation-rename').click();
  await page.getByTestId('rename-input').fill('Quarterly plan');
  await page.getByTestId('dialog-confirm').click();
  await page.getByTestId('conversation-link').filter({ hasText: 'Quarterly plan' }).waitFor();
  await page.getByTestId('conversation-title').filter({ hasText: 'Quarterly plan' }).waitFor();
  await page.reload();
  await page.getByTestId('conversation-link').filter({ hasText: 'Quarterly plan' }).waitFor();

  // A second conversation through "New chat".
  await page.getByTestId('new-conversation').click();
  await page.waitForURL(/\/chat$/);
  await page.getByTestId('empty-chat').waitFor();
  await sendMessage(page, 'Another topic [[emulator:tokens=30]]');
  await waitForAnswerDone(page);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-item"]').length === 2);

  // Delete the renamed one.
  const renamed = page.getByTestId('conversation-item').filter({ hasText: 'Quarterly plan' });
  await renamed.getByTestId('conversation-menu').click();
  await page.getByTestId('conversation-delete').click();
  await page.getByTestId('dialog-confirm').click();
  await renamed.waitFor({ state: 'detached' });
  expect(await page.getByTestId('conversation-item').count()).toBe(1);
  await page.reload();
  await page.getByTestId('conversation-item').first().waitFor();
  expect(await page.getByTestId('conversation-item').count()).toBe(1);
  expect(errors).toEqual([]);
  await context.close();
});

test('deleting the open conversation goes back to a new chat', async () => {
  const { context, page } = await newPage(browser());
  await signIn(page);
  await sendMessage(page, 'To be deleted [[emulator:tokens=30]]');
  await waitForAnswerDone(page);
  await page.waitForURL(/\/chat\/[^/]+$/);
  await page.getByTestId('conversation-menu').first().click();
  await page.getByTestId('conversation-delete').click();
  await page.getByTestId('dialog-confirm').click();
  await page.waitForURL(/\/chat$/);
  await page.getByTestId('empty-chat').waitFor();
  expect(await page.getByTestId('conversation-item').count()).toBe(0);
  await context.close();
});
