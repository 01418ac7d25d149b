import request from 'supertest';
import { startTcpProxy, type TcpProxy, testRedisUrl } from '@switchboard/testing';
import { ChatClient } from '../support/chat-client.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * Issue 13: with Redis unreachable, an API process answers within 2 s — chat sends refused with
 * `unavailable`, job submissions accepted (they are in Postgres) — instead of waiting through
 * ioredis's reconnect cycles (measured 6–20 s before). API and worker processes reach Redis through
 * a TCP proxy the test cuts; afterwards the accepted job is enqueued by the reconciler and completes.
 */
describe('Redis unreachable, API and worker processes', () => {
  let proxy: TcpProxy;
  let stack: Stack;
  let client: ChatClient;
  let token: string;

  beforeAll(async () => {
    const redis = new URL(testRedisUrl);
    proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    stack = await startStack({
      apis: 1,
      workers: 1,
      env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, JOBS_RECONCILE_INTERVAL_MS: '500', JOBS_RECONCILE_MIN_AGE_MS: '1000' },
    });
    token = await stack.token('outage', { scopes: ['jobs:read', 'jobs:write'] });
    client = await ChatClient.connect(stack.apis[0]!.url!, token);
  }, 120_000);

  afterAll(async () => {
    client?.close();
    proxy?.restore();
    await stack?.stop();
    await proxy?.close();
  }, 60_000);

  const timed = async <T>(call: () => Promise<T>): Promise<[T, number]> => {
    const started = Date.now();
    const result = await call();
    return [result, Date.now() - started];
  };

  it('refuses chats and accepts jobs within 2 s, and the accepted job completes once Redis is back', async () => {
    proxy.cut();
    const [job, submitMs] = await timed(() =>
      request(stack.apis[0]!.url!)
        .post('/v1/jobs/summarize')
        .set('authorization', `Bearer ${token}`)
        .set('idempotency-key', 'outage-job-1')
        .send({ text: 'Kept in Postgres while Redis is away. [[emulator:tokens=10]]' })
        .timeout(30_000),
    );
    const [ack, sendMs] = await timed(() => client.send({ content: [{ type: 'text', text: 'Anyone?' }] }));
    console.log(`Redis cut: job submission answered in ${submitMs} ms (${job.status}), chat send in ${sendMs} ms (${JSON.stringify(ack)})`);
    expect(job.status).toBe(202);
    expect(ack).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(submitMs).toBeLessThanOrEqual(2000);
    expect(sendMs).toBeLessThanOrEqual(2000);

    proxy.restore();
    const deadline = Date.now() + 45_000;
    let status = 'queued';
    while (!['completed', 'failed'].includes(status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      const res = await request(stack.apis[0]!.url!).get(`/v1/jobs/${job.body.id}`).set('authorization', `Bearer ${token}`);
      status = res.body.status;
    }
    expect(status).toBe('completed');
  }, 90_000);
});
