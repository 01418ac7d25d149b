import { lastAnswer, chromiumForThisFile, newPage, sendMessage, signIn, uniqueUser, waitForAnswerDone } from '../support/browser';
import { selectModel } from '../support/fixtures';

const TINY = 'test.tiny-quota-v1:0';

const browser = chromiumForThisFile();

test('a chat waiting for its model quota shows its position in line', async () => {
  const user = uniqueUser('queue');
  const a = await newPage(browser());
  const b = await newPage(browser());
  await signIn(a.page, user);
  await signIn(b.page, user);
  await selectModel(a.page, TINY);
  await selectModel(b.page, TINY);
  // The model allows one request per window: the first takes it, the second waits.
  await sendMessage(a.page, 'First in line [[emulator:tokens=20]]');
  await waitForAnswerDone(a.page);
  await sendMessage(b.page, 'Second in line [[emulator:tokens=20]]');
  const position = lastAnswer(b.page).getByTestId('queue-position');
  await position.waitFor({ timeout: 10_000 });
  expect(await position.innerText()).toMatch(/^\d+(st|nd|rd|th) in line$/);
  // Stop it rather than wait out the emulator's own per-minute window.
  await b.page.getByTestId('stop-button').click();
  await lastAnswer(b.page).getByTestId('message-stopped').waitFor();
  expect(a.errors).toEqual([]);
  expect(b.errors).toEqual([]);
  await a.context.close();
  await b.context.close();
});
