import type { Page } from 'playwright-core';
import { lastAnswer, chromiumForThisFile, newPage, sendMessage, signIn, waitForAnswerDone } from '../support/browser';
import { pngBase64, selectModel, tinyPdf } from '../support/fixtures';
import { testModels } from '../support/stack';

const browser = chromiumForThisFile();

const visionOnly = testModels[1]!.id;
const textOnly = testModels[2]!.id;

async function attach(page: Page, name: string, mimeType: string, buffer: Buffer) {
  await page.getByTestId('file-input').setInputFiles({ name, mimeType, buffer });
}

test('an image from the file picker is downscaled to 1568 px and sent', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  const png = Buffer.from(await pngBase64(page, 3000, 1000), 'base64');
  await attach(page, 'wide.png', 'image/png', png);
  await page.locator('[data-testid="attachment-chip"][data-kind="image"]').waitFor();
  await sendMessage(page, 'What is in this image? [[emulator:tokens=30]]');
  const img = page.locator('[data-testid="message"][data-role="user"] [data-testid="message-image"]');
  await img.waitFor();
  const size = await img.evaluate((el: HTMLImageElement) => ({ w: el.naturalWidth, h: el.naturalHeight }));
  expect(size).toEqual({ w: 1568, h: 523 });
  await waitForAnswerDone(page);
  expect(errors).toEqual([]);
  await context.close();
});

test('images can be pasted and dropped', async () => {
  const { context, page } = await newPage(browser());
  await signIn(page);
  const b64 = await pngBase64(page, 200, 100);
  await page.getByTestId('composer-input').focus();
  await page.evaluate((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
    document.querySelector('[data-testid="composer-input"]')!.dispatchEvent(
      new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }),
    );
  }, b64);
  await page.locator('[data-testid="attachment-chip"]').first().waitFor();
  await page.evaluate((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
    const target = document.querySelector('[data-testid="messages"]')!;
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, b64);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="attachment-chip"]').length === 2);
  await sendMessage(page, 'Two images [[emulator:tokens=30]]');
  await page.waitForFunction(() => document.querySelectorAll('[data-role="user"] [data-testid="message-image"]').length === 2);
  await waitForAnswerDone(page);
  await context.close();
});

test('a PDF goes as a document block to a model that reads documents, even when picked before the model list arrives', async () => {
  const { context, page } = await newPage(browser());
  // A slow model list: the file must be judged against the model once it is known, not refused.
  await page.route('**/v1/models', async (route) => {
    const response = await route.fetch();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await route.fulfill({ response });
  });
  await signIn(page);
  await attach(page, 'report.pdf', 'application/pdf', tinyPdf());
  await page.locator('[data-testid="attachment-chip"][data-kind="document"]').waitFor();
  await sendMessage(page, 'Summarise the report [[emulator:tokens=30]]');
  await page.locator('[data-role="user"] [data-testid="message-document"]').filter({ hasText: 'report.pdf' }).waitFor();
  await waitForAnswerDone(page);
  await context.close();
});

test('a PDF becomes page images for a vision model without document support', async () => {
  const { context, page, errors } = await newPage(browser());
  await signIn(page);
  await selectModel(page, visionOnly);
  await attach(page, 'slides.pdf', 'application/pdf', tinyPdf('Page one'));
  await page.locator('[data-testid="attachment-chip"][data-kind="image"]').waitFor({ timeout: 20_000 });
  await sendMessage(page, 'Describe the slides [[emulator:tokens=30]]');
  await page.locator('[data-role="user"] [data-testid="message-image"]').waitFor();
  await waitForAnswerDone(page);
  expect(errors).toEqual([]);
  await context.close();
});

test('unsupported files and models get clear messages', async () => {
  const { context, page } = await newPage(browser());
  await signIn(page);
  await attach(page, 'archive.zip', 'application/zip', Buffer.from('PK\u0003\u0004'));
  expect(await page.getByTestId('attachment-error').innerText()).toContain('not supported');
  await selectModel(page, textOnly);
  const png = Buffer.from(await pngBase64(page, 20, 20), 'base64');
  await attach(page, 'pic.png', 'image/png', png);
  expect(await page.getByTestId('attachment-error').innerText()).toContain('does not accept images');
  await attach(page, 'notes.pdf', 'application/pdf', tinyPdf());
  expect(await page.getByTestId('attachment-error').innerText()).toContain('does not accept documents');
  expect(await page.getByTestId('attachment-chip').count()).toBe(0);
  await context.close();
});

test('usage and cost are summed per conversation', async () => {
  const { context, page } = await newPage(browser());
  await signIn(page);
  await sendMessage(page, 'One [[emulator:tokens=30]]');
  await waitForAnswerDone(page);
  await sendMessage(page, 'Two [[emulator:tokens=30]]');
  await page.waitForFunction(() => document.querySelectorAll('[data-role="assistant"][data-status="complete"]').length === 2);
  expect(await lastAnswer(page).getByTestId('message-usage').innerText()).toContain('30 out');
  expect(await page.getByTestId('conversation-usage').innerText()).toContain('60 out');
  await context.close();
});
