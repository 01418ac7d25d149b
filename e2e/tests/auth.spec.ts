import { axeViolations, chromiumForThisFile, newPage, signIn, uniqueUser } from '../support/browser';

const browser = chromiumForThisFile();

test('sign-in page shows the emulator badge and passes axe', async () => {
  const { context, page, errors } = await newPage(browser());
  await page.goto('/');
  await page.waitForURL(/\/sign-in/);
  await page.getByTestId('signin-username').waitFor();
  await expectVisible(page.getByTestId('emulator-badge'));
  expect(await axeViolations(page)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
});

test('signs in, shows the user, signs out back to the sign-in form', async () => {
  const { context, page, errors } = await newPage(browser());
  const name = await signIn(page, uniqueUser('ana'));
  await expect(page.getByTestId('user-name').textContent()).resolves.toContain(name);
  await page.getByTestId('user-menu').click();
  await page.getByTestId('sign-out').click();
  await page.waitForURL(/\/sign-in/);
  await page.getByTestId('signin-username').waitFor();
  expect(await page.evaluate(() => localStorage.getItem('sb.token'))).toBeNull();
  // Signed out: the chat is not reachable any more.
  await page.goto('/chat');
  await page.waitForURL(/\/sign-in/);
  expect(errors).toEqual([]);
  await context.close();
});

test('a token the server rejects sends the user back to sign-in', async () => {
  const { context, page } = await newPage(browser());
  await signIn(page);
  await page.evaluate(() =>
    localStorage.setItem('sb.token', JSON.stringify({ token: 'not-a-jwt', expiresAt: Date.now() + 3_600_000 })),
  );
  await page.reload();
  await page.waitForURL(/\/sign-in\?expired=1/);
  await page.getByTestId('signin-expired').waitFor();
  await context.close();
});

async function expectVisible(locator: { waitFor: (o?: { state?: 'visible' }) => Promise<void> }) {
  await locator.waitFor({ state: 'visible' });
}
