import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import type { OpsSnapshot } from '@switchboard/contracts';
import { createRedis, producerQueue } from '@switchboard/server-core';
import { parseMetrics } from '@switchboard/testing';
import { startTestApi, type TestApi } from './support/test-api.js';

function connectOps(url: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(`${url}/ops`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => (socket.close(), reject(err)));
  });
}

describe('operations: live picture, queue dashboard, metrics', () => {
  let api: TestApi;
  let admin: string;
  let user: string;

  beforeAll(async () => {
    api = await startTestApi({ AUTH_LOCAL_ADMINS: 'root', OPS_PUSH_INTERVAL_MS: '200', OPS_HEARTBEAT_MS: '1500' });
    admin = await api.token('root');
    user = await api.token('joe');
  });
  afterAll(() => api?.stop());

  it('gives admins the picture from Redis, over REST and pushed on /ops; others get 403', async () => {
    const denied = await request(api.url).get('/v1/admin/ops').set('authorization', `Bearer ${user}`).expect(403);
    expect(denied.body.error.code).toBe('forbidden');
    await request(api.url).get('/v1/admin/ops').expect(401);

    const { body } = await request(api.url).get('/v1/admin/ops').set('authorization', `Bearer ${admin}`).expect(200);
    const snapshot = body as OpsSnapshot;
    expect(snapshot.queues.map((q) => [q.name, q.lane])).toEqual([
      ['chat', 'chat'],
      ['summarize', 'batch'],
    ]);
    expect(snapshot.models.length).toBeGreaterThan(0);
    expect(snapshot.models[0]!.history).toHaveLength(60);
    expect(snapshot.workers).toEqual([]);
    expect(snapshot.oldestWaiting).toBeNull();
    // This node's own heartbeat.
    expect(snapshot.apiNodes).toEqual([expect.objectContaining({ pid: process.pid, sockets: 0 })]);

    await expect(connectOps(api.url, user)).rejects.toMatchObject({ data: { code: 'forbidden' } });
    await expect(connectOps(api.url, 'not-a-token')).rejects.toMatchObject({ data: { code: 'unauthorized' } });
    const socket = await connectOps(api.url, admin);
    try {
      // Pushed twice: at connect and then on the timer.
      const pushed = await new Promise<OpsSnapshot>((resolve) => {
        let n = 0;
        socket.on('ops:snapshot', (s: OpsSnapshot) => ++n === 2 && resolve(s));
      });
      expect(pushed.models.map((m) => m.id)).toEqual(snapshot.models.map((m) => m.id));
    } finally {
      socket.close();
    }
  });

  it('names the job that has waited longest, delayed ones included', async () => {
    const redis = createRedis(api.config.redisUrl, 'commands', () => undefined);
    const queue = producerQueue('summarize', redis, api.config.queuePrefix);
    try {
      await queue.add('summarize', { jobId: 'parked' }, { jobId: 'parked', delay: 60_000, timestamp: Date.now() - 5000 });
      await queue.add('summarize', { jobId: 'fresh' }, { jobId: 'fresh' });
      const { body } = await request(api.url).get('/v1/admin/ops').set('authorization', `Bearer ${admin}`).expect(200);
      expect((body as OpsSnapshot).oldestWaiting).toMatchObject({ queue: 'summarize', jobId: 'parked' });
      expect((body as OpsSnapshot).oldestWaiting!.waitingMs).toBeGreaterThanOrEqual(5000);
      expect((body as OpsSnapshot).queues.find((q) => q.name === 'summarize')).toMatchObject({ waiting: 1, delayed: 1 });
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      redis.disconnect();
    }
  });

  it('opens bull-board at /admin/queues to admins only, by bearer or a short HttpOnly cookie', async () => {
    await request(api.url).get('/admin/queues').expect(401);
    await request(api.url).get('/admin/queues').set('authorization', `Bearer ${user}`).expect(403);
    await request(api.url).get('/admin/queues/api/queues').set('authorization', `Bearer ${user}`).expect(403);
    await request(api.url).post('/v1/admin/queues/session').set('authorization', `Bearer ${user}`).expect(403);
    await request(api.url).get('/admin/queues').set('authorization', `Bearer ${admin}`).expect(200).expect('content-type', /html/);

    const session = await request(api.url).post('/v1/admin/queues/session').set('authorization', `Bearer ${admin}`).expect(204);
    const cookie = String(session.headers['set-cookie']);
    expect(cookie).toMatch(/^sb_queues=[\w-]{40,};/);
    expect(cookie).toContain('Path=/admin/queues');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const pair = cookie.split(';')[0]!;
    const queues = await request(api.url).get('/admin/queues/api/queues').set('cookie', pair).expect(200);
    expect((queues.body.queues as { name: string }[]).map((q) => q.name).sort()).toEqual(['chat', 'summarize', 'titles', 'webhooks']);
    await request(api.url).get('/admin/queues/api/queues').set('cookie', 'sb_queues=forged').expect(401);
  });

  it('exposes the fixed Prometheus names, parseable, for every queue', async () => {
    const metrics = parseMetrics((await request(api.url).get('/metrics').expect(200)).text);
    expect(metrics.get('switchboard_sockets')?.type).toBe('GAUGE');
    expect(metrics.get('switchboard_delta_latency_seconds')?.type).toBe('HISTOGRAM');
    const jobs = metrics.get('switchboard_jobs')!;
    expect(jobs.type).toBe('GAUGE');
    expect(new Set(jobs.metrics.map((m) => m.labels!.queue))).toEqual(new Set(['chat', 'summarize', 'webhooks', 'titles']));
    expect(jobs.metrics.find((m) => m.labels!.queue === 'summarize' && m.labels!.state === 'waiting')?.value).toBe('0');
  });
});
