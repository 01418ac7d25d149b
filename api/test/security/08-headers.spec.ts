import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startTestApi, type TestApi } from '../support/test-api.js';

const inlineScript = "document.documentElement.classList.add('theme-dark');";
const indexHtml = `<!doctype html><html><head><script>${inlineScript}</script></head><body><sb-root></sb-root><script src="main.js" type="module"></script></body></html>`;

/** `directive value…; …` → { directive: [values] } */
function parseCsp(header: string | undefined): Record<string, string[]> {
  return Object.fromEntries(
    (header ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

describe('security 8: browser defences on everything the API serves', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-portal-'));
  let api: TestApi;

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.html'), indexHtml);
    writeFileSync(join(dir, 'main.js'), 'export {};');
    api = await startTestApi({ WEB_DIST_DIR: dir });
  });
  afterAll(async () => {
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['the portal', '/', 200],
    ['a portal route', '/chat/123', 200],
    ['a static file', '/main.js', 200],
    ['an API route', '/v1/client-config', 200],
    ['an API error', '/v1/conversations', 401],
    ['health', '/healthz', 200],
    ['the API docs', '/docs', 200],
    ['an unknown API path', '/v1/nope', 404],
  ])('%s (%s) carries CSP, nosniff, Referrer-Policy and frame denial', async (_, path, status) => {
    const res = await request(api.url).get(path).set('accept', 'text/html').expect(status);
    const csp = parseCsp(res.headers['content-security-policy']);
    expect(csp['default-src']).toEqual(["'self'"]);
    expect(csp['img-src']).toEqual(["'self'", 'data:', 'blob:']);
    expect(csp['frame-ancestors']).toEqual(["'none'"]);
    expect(csp['object-src']).toEqual(["'none'"]);
    expect(csp['script-src']).not.toContain("'unsafe-inline'");
    expect(csp['script-src']).not.toContain("'unsafe-eval'");
    expect(csp['script-src-attr']).toEqual(["'none'"]);
    expect(csp['connect-src']).toContain("'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it("allows exactly the portal's own inline script, by hash", async () => {
    const res = await request(api.url).get('/').set('accept', 'text/html').expect(200);
    const hash = `'sha256-${createHash('sha256').update(inlineScript).digest('base64')}'`;
    expect(parseCsp(res.headers['content-security-policy'])['script-src']).toEqual(["'self'", hash]);
  });

  it('sends HSTS only over https (X-Forwarded-Proto from a trusted proxy)', async () => {
    const plain = await request(api.url).get('/healthz').expect(200);
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    const tls = await request(api.url).get('/healthz').set('x-forwarded-proto', 'https').expect(200);
    expect(tls.headers['strict-transport-security']).toMatch(/^max-age=\d{8,}; includeSubDomains$/);
  });

  it('ignores X-Forwarded-Proto from peers outside TRUST_PROXY', async () => {
    const strict = await startTestApi({ TRUST_PROXY: 'false' });
    try {
      const res = await request(strict.url).get('/healthz').set('x-forwarded-proto', 'https').expect(200);
      expect(res.headers['strict-transport-security']).toBeUndefined();
    } finally {
      await strict.stop();
    }
  });

  it('lets the portal reach the OIDC issuer and the IdP token endpoint in oidc mode', async () => {
    const oidc = await startTestApi({
      AUTH_MODE: 'oidc',
      AUTH_ISSUER: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
      AUTH_AUDIENCE: 'portal-client',
      AUTH_CLIENT_ID: 'portal-client',
      AUTH_END_SESSION_URL: 'https://switchboard.auth.eu-west-1.amazoncognito.com/logout',
    });
    try {
      const res = await request(oidc.url).get('/v1/client-config').expect(200);
      expect(parseCsp(res.headers['content-security-policy'])['connect-src']).toEqual([
        "'self'",
        'https://cognito-idp.eu-west-1.amazonaws.com',
        'https://switchboard.auth.eu-west-1.amazoncognito.com',
      ]);
    } finally {
      await oidc.stop();
    }
  });
});
