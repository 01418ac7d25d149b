import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestApi, type TestApi } from './support/test-api.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const run = (args: string[], opts: { cwd: string; env?: Record<string, string> }) =>
  promisify(execFile)(process.execPath, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, maxBuffer: 16 * 1024 * 1024 });

/** Sends only the headers of a request that announces `length` bytes, and resolves with the answer (never sends the body). */
function headersOnly(url: string, path: string, length: number, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(length), ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

describe('integrators: limits before the body, and a client generated from the OpenAPI document', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    api = await startTestApi({ JOBS_MAX_BODY_BYTES: String(1024 * 1024), RATE_JOBS_PER_MINUTE: '0' });
    token = await api.token('typed-client', { scopes: ['jobs:read', 'jobs:write'] });
  });
  afterAll(() => api?.close());

  it('answers 401 (no token) and 413 naming JOBS_MAX_BODY_BYTES (too long) without reading the body', async () => {
    // The body is never sent: an answer at all proves the API did not wait for it.
    const anonymous = await headersOnly(api.url, '/v1/batches', 50 * 1024 * 1024);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body).error.code).toBe('unauthorized');
    const tooLong = await headersOnly(api.url, '/v1/jobs/summarize', 50 * 1024 * 1024, { authorization: `Bearer ${token}` });
    expect(tooLong.status).toBe(413);
    expect(JSON.parse(tooLong.body).error).toMatchObject({ code: 'payload_too_large', details: { limit: 1024 * 1024 } });
    expect(JSON.parse(tooLong.body).error.message).toContain('the limit is 1048576 bytes (JOBS_MAX_BODY_BYTES)');
  });

  it('the OpenAPI document has every REST route the API serves', async () => {
    const doc = (await (await fetch(`${api.url}/docs/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const router = (api.app.getHttpAdapter().getInstance() as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router;
    const served = router.stack
      .filter((layer) => layer.route && (layer.route.path.startsWith('/v1/') || layer.route.path.startsWith('/.well-known/')))
      .flatMap((layer) => Object.keys(layer.route!.methods).map((m) => `${m} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`));
    expect(served.length).toBeGreaterThan(20);
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${path}`)));
    expect(served.filter((route) => !documented.has(route))).toEqual([]);
  });

  it('the README example type-checks against types generated from /docs/openapi.json and runs against the API', async () => {
    // Inside the repository, so the example resolves openapi-fetch from its node_modules.
    const dir = mkdtempSync(join(here, '.client-'));
    try {
      const doc = await (await fetch(`${api.url}/docs/openapi.json`)).text();
      writeFileSync(join(dir, 'openapi.json'), doc);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      await run([join(root, 'node_modules/openapi-typescript/bin/cli.js'), 'openapi.json', '-o', 'switchboard-api.ts'], { cwd: dir });
      copyFileSync(join(root, 'docs/examples/batch-client.ts'), join(dir, 'batch-client.ts'));
      writeFileSync(
        join(dir, 'main.ts'),
        `import { submitBatch, switchboard } from './batch-client.js';
const client = switchboard(process.env.BASE_URL!, process.env.TOKEN!);
const items = [{ customId: 'a', text: 'First text.' }, { customId: 'b', documents: [{ name: 'b.txt', format: 'txt' as const, data: 'aGVsbG8=' }] }];
const batch = await submitBatch(client, items, 'example-1');
const again = await submitBatch(client, items, 'example-1');
const { data } = await client.GET('/v1/jobs', { params: { query: { batchId: batch.id, sort: 'createdAt' } } });
console.log(JSON.stringify({ batch, sameId: again.id === batch.id, customIds: data!.items.map((j) => j.customId).sort() }));
`,
      );
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2023', 'dom', 'dom.asynciterable'], skipLibCheck: true, types: ['node'] },
          files: ['main.ts', 'batch-client.ts', 'switchboard-api.ts'],
        }),
      );
      await run([join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir }).catch((err: { stdout?: string }) => {
        throw new Error(`the example does not type-check:\n${err.stdout}`);
      });
      const { stdout } = await run([join(root, 'node_modules/tsx/dist/cli.mjs'), 'main.ts'], { cwd: dir, env: { BASE_URL: api.url, TOKEN: token } });
      const out = JSON.parse(stdout.trim());
      expect(out.batch).toMatchObject({ status: 'queued', total: 2, metadata: { submittedBy: 'nightly-job' } });
      expect(out.sameId).toBe(true);
      expect(out.customIds).toEqual(['a', 'b']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
