import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import pg from 'pg';
import request from 'supertest';
import { type Stack, startStack } from '../support/stack.js';
import { sleep, startReceiver, waitForJob, writeModelsFile } from '../jobs/jobs-support.js';

/**
 * Issue 11, item 10, with a real worker delivering: WEBHOOK_TIMEOUT_MS bounds the whole delivery
 * (a receiver trickling its answer is cut off), and after a secret rotation both signatures are sent.
 */
describe('security: webhooks', () => {
  let stack: Stack;
  let api: string;
  let token: string;
  let modelsFile: string;
  let db: pg.Client;
  const auth = () => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    modelsFile = writeModelsFile();
    stack = await startStack({
      apis: 1,
      workers: 1,
      emulator: { tps: null, ttfbMs: 0 },
      env: { MODELS_FILE: modelsFile, WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: '1500', WEBHOOK_ATTEMPTS: '1' },
    });
    api = stack.apis[0]!.url!;
    token = await stack.token('hook-owner', { scopes: ['jobs:read', 'jobs:write'] });
    db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    await stack?.stop();
    rmSync(modelsFile, { force: true });
  }, 60_000);

  it('a receiver that answers one byte every 500 ms is cut off at WEBHOOK_TIMEOUT_MS and the delivery fails', async () => {
    const open = new Set<NodeJS.Timeout>();
    let closedByClient = false;
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.flushHeaders();
        const timer = setInterval(() => res.write('.'), 500);
        open.add(timer);
        res.on('close', () => {
          closedByClient = true;
          clearInterval(timer);
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/slow`;
      const res = await request(api).post('/v1/jobs/summarize').set(auth()).send({ text: 'Trickle [[emulator:tokens=3]]', callbackUrl: url }).expect(202);
      await waitForJob(api, token, res.body.id);
      let status: string | null = null;
      for (let i = 0; i < 200 && status !== 'failed'; i++) {
        status = (await db.query('select callback_status from jobs where id = $1', [res.body.id])).rows[0]?.callback_status ?? null;
        if (status !== 'failed') await sleep(50);
      }
      expect(status).toBe('failed');
      expect(closedByClient).toBe(true);
    } finally {
      for (const t of open) clearInterval(t);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('after a rotation, callbacks carry signatures with the new and the previous secret', async () => {
    const old = (await request(api).get('/v1/webhooks/secret').set(auth()).expect(200)).body.secret as string;
    const rotated = (await request(api).post('/v1/webhooks/secret').set(auth()).expect(200)).body as { secret: string; previousValidUntil?: string };
    expect(rotated.secret).not.toBe(old);
    expect(Date.parse(rotated.previousValidUntil!)).toBeGreaterThan(Date.now() + 23 * 3600 * 1000);
    const receiver = await startReceiver();
    try {
      const res = await request(api).post('/v1/jobs/summarize').set(auth()).send({ text: 'Signed [[emulator:tokens=3]]', callbackUrl: receiver.url }).expect(202);
      await waitForJob(api, token, res.body.id);
      for (let i = 0; i < 200 && receiver.calls.length === 0; i++) await sleep(50);
      const call = receiver.calls[0]!;
      const signatures = String(call.headers['x-switchboard-signature']).split(',');
      const sign = (secret: string, headers: IncomingMessage['headers']) =>
        `sha256=${createHmac('sha256', secret).update(`${headers['x-switchboard-timestamp']}.${call.body}`).digest('hex')}`;
      expect(signatures).toEqual([sign(rotated.secret, call.headers), sign(old, call.headers)]);
    } finally {
      await receiver.close();
    }
  });
});
