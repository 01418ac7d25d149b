import type { Page } from 'playwright-core';
import { axeViolations, chromiumForThisFile, newPage, sendMessage, uniqueUser, waitForAnswerDone } from '../support/browser';
import { type IdentityProvider, startIdentityProvider } from '../support/identity-provider';
import { type Stack, freePort, startStack } from '../support/stack';

/**
 * The portal in oidc mode against a real OpenID Provider (the stand-in for Cognito's hosted UI):
 * authorization code + PKCE, the access token on REST and the socket, renewal, sign-out at the IdP.
 */
const browser = chromiumForThisFile();
const clientId = 'switchboard-portal';
let idp: IdentityProvider;
let stack: Stack;

beforeAll(async () => {
  const portalPort = await freePort();
  let idpPort = await freePort();
  while (idpPort === portalPort) idpPort = await freePort();
  // Access tokens live 70 s: the portal renews them a minute early, so within seconds.
  idp = await startIdentityProvider({ port: idpPort, clientId, portalUrl: `http://127.0.0.1:${portalPort}`, accessTokenTtlSeconds: 70 });
  stack = await startStack({
    port: portalPort,
    env: { AUTH_MODE: 'oidc', AUTH_ISSUER: idp.issuer, AUTH_AUDIENCE: clientId, AUTH_CLIENT_ID: clientId, LOG_LEVEL: 'warn' },
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await idp?.stop();
});

const open = () => newPage(browser(), { baseUrl: stack.url });

/** The IdP's own pages: any login and password, then consent (every test signs in a new account). */
async function signInAtIdp(page: Page, login: string): Promise<void> {
  await page.waitForURL((url) => url.origin === idp.issuer);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

const storedToken = (page: Page) => page.evaluate(() => JSON.parse(localStorage.getItem('sb.token') ?? 'null')?.token as string | undefined);

test('signs in at the IdP, chats with its access token, and signs out of the IdP too', async () => {
  const { context, page, errors } = await open();
  const login = uniqueUser('sso');
  await page.goto('/');
  await page.waitForURL(/\/sign-in/);
  await page.getByTestId('signin-sso').waitFor();
  expect(await axeViolations(page)).toEqual([]);
  await page.getByTestId('signin-sso').click();
  await signInAtIdp(page, login);
  await page.waitForURL(/\/chat/);
  await expect(page.getByTestId('user-name').textContent()).resolves.toContain(login);
  expect(page.url()).not.toContain('code=');

  await sendMessage(page, 'Hello over single sign-on [[emulator:tokens=20]]');
  await waitForAnswerDone(page);

  await page.getByTestId('user-menu').click();
  await page.getByTestId('sign-out').click();
  // The IdP asks whether to end its session, then sends the browser back to sign-in.
  await page.waitForURL((url) => url.origin === idp.issuer);
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.waitForURL(/\/sign-in/);
  expect(await storedToken(page)).toBeUndefined();
  // The IdP session is gone: signing in again asks for the login again.
  await page.getByTestId('signin-sso').click();
  await page.locator('input[name="login"]').waitFor();
  expect(errors).toEqual([]);
  await context.close();
});

test('comes back to the page asked for, and renews the access token before it expires', async () => {
  const { context, page, errors } = await open();
  await page.goto('/jobs');
  await page.waitForURL(/\/sign-in\?returnUrl=%2Fjobs/);
  await page.getByTestId('signin-sso').click();
  await signInAtIdp(page, uniqueUser('sso'));
  await page.waitForURL(/\/jobs$/);
  const first = await storedToken(page);
  expect(first).toBeTruthy();
  // Renewed through the refresh token ≈ 10 s after sign-in (70 s tokens, renewed 60 s early).
  await page.waitForFunction((token) => {
    const stored = JSON.parse(localStorage.getItem('sb.token') ?? 'null') as { token?: string } | null;
    return !!stored?.token && stored.token !== token;
  }, first, { timeout: 40_000 });
  const renewed = await storedToken(page);
  const bearers = new Set<string>();
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/v1/')) bearers.add(r.headers()['authorization'] ?? '');
  });
  // The renewed token is what REST and the socket get, after a reload too.
  await page.reload();
  await page.getByTestId('nav-chat').click();
  await sendMessage(page, 'Still signed in [[emulator:tokens=20]]');
  await waitForAnswerDone(page);
  expect([...bearers]).toContain(`Bearer ${renewed}`);
  expect(errors).toEqual([]);
  await context.close();
});

test('a sign-in the user cancels at the IdP ends on a clear message with a way back', async () => {
  const { context, page } = await open();
  await page.goto('/sign-in');
  await page.getByTestId('signin-sso').click();
  await page.waitForURL((url) => url.origin === idp.issuer);
  await page.getByRole('link', { name: /cancel/i }).click();
  await page.waitForURL(/\/auth\/callback/);
  await expect(page.getByTestId('sso-error').textContent()).resolves.toMatch(/aborted|denied/i);
  await page.getByTestId('sso-back').click();
  await page.waitForURL(/\/sign-in/);
  await page.getByTestId('signin-sso').waitFor();
  await context.close();
});
