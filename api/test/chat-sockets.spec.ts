import { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import { jobChannel, userChannel } from '@switchboard/server-core';
import { startTcpProxy, testRedisUrl } from '@switchboard/testing';
import type { Socket as ServerSocket } from 'socket.io';
import { ChatGateway } from '../src/chat/chat.gateway.js';
import { JobRelayService } from '../src/chat/job-relay.service.js';
import { startTestApi, type TestApi } from './support/test-api.js';

const connect = (url: string, token: string) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = io(`${url}/chat`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => (socket.close(), reject(err)));
  });

type AckResult = { ok: boolean; error?: { code: string } };
/** How many connections subscribe to the channel. */
const numsub = async (redis: Redis, channel: string) => ((await redis.pubsub('NUMSUB', channel)) as [string, number])[1];

/** Issue 21: what an idle `/chat` socket keeps on the server, and that its acks did not change. */
describe('chat sockets hold little per connection', () => {
  let api: TestApi;
  let clients: Socket[] = [];
  const serverSocket = (client: Socket): ServerSocket => api.app.get(ChatGateway).namespace.sockets.get(client.id!)!;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterEach(() => {
    for (const c of clients) c.close();
    clients = [];
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('keeps the principal and exp, not the raw token or the handshake request', async () => {
    const token = await api.token('mem-a');
    const client = await connect(api.url, token);
    clients.push(client);
    const socket = serverSocket(client);
    expect(socket.data.principal).toMatchObject({ username: 'mem-a', kind: 'person' });
    expect(typeof socket.data.expiresAt).toBe('number');
    expect(JSON.stringify(socket.handshake)).not.toContain(token);
    expect(socket.handshake.auth).toEqual({});
    expect(socket.request).toBeUndefined();
  });

  it("is connected only once its node follows the user's channel (another node's job announcement reaches it)", async () => {
    // This node's Redis commands take 300 ms to arrive: the subscribe is still on its way when the
    // handshake would otherwise have ended.
    const proxy = await startTcpProxy({ host: new URL(testRedisUrl).hostname, port: Number(new URL(testRedisUrl).port || 6379) });
    const slow = await startTestApi({ REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
    const redis = new Redis(testRedisUrl);
    try {
      const token = await slow.token('mem-follow');
      proxy.delayRequests(300);
      const client = await connect(slow.url, token);
      clients.push(client);
      const channel = userChannel(slow.config.queuePrefix, 'local:mem-follow');
      expect(await redis.pubsub('NUMSUB', channel)).toEqual([channel, 1]);
    } finally {
      proxy.restore();
      redis.disconnect();
      await slow.stop();
      await proxy.close();
    }
  });

  it('gives every socket the same listener functions, not closures per socket', async () => {
    const a = await connect(api.url, await api.token('mem-b'));
    const b = await connect(api.url, await api.token('mem-c'));
    clients.push(a, b);
    const [sa, sb] = [serverSocket(a), serverSocket(b)];
    for (const event of ['chat:send', 'chat:regenerate', 'chat:cancel', 'chat:resume']) {
      expect(sa.listeners(event)).toHaveLength(1);
      expect(sa.listeners(event)[0]).toBe(sb.listeners(event)[0]);
    }
    expect(sa.listeners('disconnect').filter((fn) => sb.listeners('disconnect').includes(fn))).toHaveLength(1);
    expect(sa.listenersAny()).toEqual(sb.listenersAny());
  });

  it('reads bodies and acks as before: no body, extra arguments and a bad body get a validation ack', async () => {
    const client = await connect(api.url, await api.token('mem-d'));
    clients.push(client);
    const noBody = (await client.timeout(10_000).emitWithAck('chat:send')) as AckResult;
    expect(noBody).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    const extra = (await client.timeout(10_000).emitWithAck('chat:cancel', { jobId: 'x' }, 'extra')) as AckResult;
    expect(extra).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    const bad = (await client.timeout(10_000).emitWithAck('chat:resume', { jobId: 5 })) as AckResult;
    expect(bad).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
  });
  it("stops relaying a job once the last socket watching it is gone, and only then", async () => {
    const redis = new Redis(testRedisUrl);
    try {
      const token = await api.token('mem-e');
      const [a, b] = [await connect(api.url, token), await connect(api.url, token)];
      clients.push(a, b);
      // No worker runs here: the job waits, and both of the user's sockets watch it.
      const ack = (await a.timeout(10_000).emitWithAck('chat:send', { content: [{ type: 'text', text: 'Hello' }] })) as AckResult & { jobId: string };
      expect(ack.ok).toBe(true);
      const relay = api.app.get(JobRelayService);
      const subscribers = () => numsub(redis, jobChannel(ack.jobId));
      expect(relay.load().watchedJobs).toBe(1);
      a.close();
      await new Promise((r) => setTimeout(r, 300));
      expect(relay.load().watchedJobs).toBe(1);
      expect(await subscribers()).toBe(1);
      b.close();
      await new Promise((r) => setTimeout(r, 300)); // the channel is left together with others, 100 ms later
      expect(relay.load().watchedJobs).toBe(0);
      expect(await subscribers()).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
  it('keeps its subscriptions when a job is watched again before the channel was left', async () => {
    const redis = new Redis(testRedisUrl);
    try {
      const token = await api.token('mem-f');
      const a = await connect(api.url, token);
      clients.push(a);
      const ack = (await a.timeout(10_000).emitWithAck('chat:send', { content: [{ type: 'text', text: 'Hello' }] })) as AckResult & { jobId: string };
      expect(ack.ok).toBe(true);
      const b = await connect(api.url, token); // after the send: b does not watch the job yet
      clients.push(b);
      // a leaves: the job's channel is to be left 100 ms later, together with others; b takes the
      // job up again before then, so nothing is left to leave when that moment comes.
      a.close();
      await new Promise((r) => setTimeout(r, 30));
      expect(((await b.timeout(10_000).emitWithAck('chat:resume', { jobId: ack.jobId, afterSeq: 0 })) as AckResult).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(await numsub(redis, jobChannel(ack.jobId))).toBe(1);
      expect(await numsub(redis, userChannel(api.config.queuePrefix, 'local:mem-f'))).toBe(1);
    } finally {
      redis.disconnect();
    }
  });
});
