import request from 'supertest';
import { io, type Socket } from 'socket.io-client';
import { type TcpProxy, startTcpProxy } from '@switchboard/testing';
import { type TestApi, startTestApi } from './support/test-api.js';

/**
 * Postgres cut off mid-flight (a TCP proxy between the API and the real database): requests get
 * 503 `unavailable` with Retry-After — never a 500 or a hang — and work again once it is back.
 */
describe('Postgres unreachable', () => {
  let proxy: TcpProxy;
  let api: TestApi;
  let token: string;
  let socket: Socket;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    api = await startTestApi((databaseUrl) => {
      const url = new URL(databaseUrl);
      url.host = `127.0.0.1:${proxy.port}`;
      return { DATABASE_URL: url.toString() };
    });
    token = await api.token('outage-user');
    socket = io(`${api.url}/chat`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('connect_error', reject));
  });
  afterAll(async () => {
    socket?.close();
    proxy?.restore();
    await api?.stop();
    await proxy?.close();
  });

  const auth = () => ({ Authorization: `Bearer ${token}` });
  const submit = (key: string) =>
    request(api.url).post('/v1/jobs/summarize').set(auth()).set('Idempotency-Key', key).send({ text: 'Some text to summarize.' });
  const send = (clientMessageId: string) =>
    socket.timeout(20_000).emitWithAck('chat:send', { content: [{ type: 'text', text: 'hello' }], clientMessageId }) as Promise<{
      ok: boolean;
      error?: { code: string };
    }>;

  it('answers 503 unavailable while it is gone, and serves again when it is back', async () => {
    await request(api.url).get('/v1/conversations').set(auth()).expect(200);
    proxy.cut();

    const list = await request(api.url).get('/v1/conversations').set(auth());
    expect(list.status).toBe(503);
    expect(list.headers['retry-after']).toBe('5');
    expect(list.body).toEqual({ error: { code: 'unavailable', message: expect.any(String) }, requestId: expect.any(String) });
    const job = await submit('outage-1');
    expect(job.status).toBe(503);
    expect(job.body.error.code).toBe('unavailable');
    expect(await send('outage-chat-1')).toEqual({ ok: false, error: { code: 'unavailable', message: expect.any(String) } });

    proxy.restore();
    await request(api.url).get('/v1/conversations').set(auth()).expect(200);
    // Retries with the same keys now go through: nothing was half-stored while it was gone.
    const retried = await submit('outage-1').expect(202);
    await submit('outage-1').expect(202).expect((res) => expect(res.body.id).toBe(retried.body.id));
    expect(await send('outage-chat-1')).toMatchObject({ ok: true });
  });
});

/** Redis cut off: submissions still land in Postgres (the workers' reconciler enqueues them later). */
describe('Redis unreachable', () => {
  let proxy: TcpProxy;
  let api: TestApi;
  let token: string;
  let socket: Socket;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    api = await startTestApi({ REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
    token = await api.token('redis-outage-user');
    socket = io(`${api.url}/chat`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('connect_error', reject));
  });
  afterAll(async () => {
    socket?.close();
    proxy?.restore();
    await api?.stop();
    await proxy?.close();
  });

  const auth = () => ({ Authorization: `Bearer ${token}` });

  it('accepts jobs into Postgres while it is gone, refuses chats clearly, and a retried chat shows its ending', async () => {
    proxy.cut();
    const job = await request(api.url).post('/v1/jobs/summarize').set(auth()).set('Idempotency-Key', 'r-1').send({ text: 'During.' }).timeout(20_000);
    expect(job.status).toBe(202);
    await request(api.url).get(`/v1/jobs/${job.body.id}`).set(auth()).expect(200).expect((res) => expect(res.body.status).toBe('queued'));

    const send = () =>
      socket.timeout(20_000).emitWithAck('chat:send', { content: [{ type: 'text', text: 'hello' }], clientMessageId: 'redis-chat-1' }) as Promise<{
        ok: boolean;
        conversationId?: string;
        assistantMessageId?: string;
        error?: { code: string };
      }>;
    expect(await send()).toEqual({ ok: false, error: { code: 'unavailable', message: expect.any(String) } });
    proxy.restore();
    // The stored turn was ended, not left waiting: a retry of the same message shows it failed.
    const again = await send();
    expect(again.ok).toBe(true);
    const conversation = await request(api.url).get(`/v1/conversations/${again.conversationId}`).set(auth()).expect(200);
    const answer = conversation.body.messages.find((m: { id: string }) => m.id === again.assistantMessageId);
    expect(answer.status).toBe('failed');
  });
});
