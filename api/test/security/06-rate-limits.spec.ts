import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { io, type Socket } from 'socket.io-client';
import { testRedisUrl } from '@switchboard/testing';
import request from 'supertest';
import { startTestApi, type TestApi } from '../support/test-api.js';

type Ack = { ok: boolean; jobId?: string; error?: { code: string; message: string; retryAfterMs?: number } };

/** Issue 11, item 6: per-principal limits answer 429 / rate_limited (no worker runs: chats stay queued). */
describe('security: per-principal limits', () => {
  let api: TestApi;
  const sockets: Socket[] = [];
  const connect = (token: string) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = io(`${api.url}/chat`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
      sockets.push(socket);
      socket.once('connect', () => resolve(socket)).once('connect_error', reject);
    });
  const send = (socket: Socket, text: string) => socket.timeout(10_000).emitWithAck('chat:send', { content: [{ type: 'text', text }] }) as Promise<Ack>;
  const cancel = (socket: Socket, jobId: string) => socket.timeout(10_000).emitWithAck('chat:cancel', { jobId }) as Promise<Ack>;
  /**
   * The jobs holding a place in the quota governor's lines for the owner of `jobIds` are exactly
   * these (waited for: a refused turn gives back the place it took beside its insert without waiting).
   */
  const expectOwnPlacesInLine = async (jobIds: string[]) => {
    const redis = new Redis(testRedisUrl);
    const expected = [...jobIds].sort();
    let own: string[] = [];
    try {
      for (const deadline = Date.now() + 5_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
        own = [];
        for await (const keys of redis.scanStream({ match: `${api.config.queuePrefix}:quota:*:owners` })) {
          for (const key of keys as string[]) {
            const owners = await redis.hgetall(key);
            own.push(...Object.keys(owners).filter((id) => owners[jobIds[0]!] !== undefined && owners[id] === owners[jobIds[0]!]));
          }
        }
        if (own.sort().join() === expected.join()) break;
      }
    } finally {
      redis.disconnect();
    }
    expect(own).toEqual(expected);
  };

  beforeAll(async () => {
    api = await startTestApi({
      RATE_CHAT_PER_MINUTE: '4',
      RATE_CHAT_CONCURRENT: '2',
      RATE_JOBS_PER_MINUTE: '5',
      RATE_SOCKETS_PER_USER: '3',
      RATE_STORED_BYTES_PER_USER: '40000',
    });
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await api?.stop();
  });

  it('job submissions per client per minute: 429 rate_limited with Retry-After', async () => {
    const token = await api.token('busy-client', { scopes: ['jobs:write', 'jobs:read'] });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await request(api.url).post('/v1/jobs/summarize').set('authorization', `Bearer ${token}`).send({ text: `Doc ${i}` }));
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202, 202, 429]);
    const limited = results[5]!;
    expect(limited.body.error).toMatchObject({ code: 'rate_limited', retryAfterMs: expect.any(Number) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another client is not affected.
    const other = await api.token('calm-client', { scopes: ['jobs:write'] });
    await request(api.url).post('/v1/jobs/summarize').set('authorization', `Bearer ${other}`).send({ text: 'Mine' }).expect(202);
  });

  it('concurrent queued+active chats per user: the third waits until one ends (a cancel frees its place)', async () => {
    const socket = await connect(await api.token('eager'));
    const first = await send(socket, 'one');
    const second = await send(socket, 'two');
    expect([first.ok, second.ok]).toEqual([true, true]);
    const third = await send(socket, 'three');
    expect(third).toMatchObject({ ok: false, error: { code: 'rate_limited', retryAfterMs: expect.any(Number) } });
    expect(await cancel(socket, first.jobId!)).toMatchObject({ ok: true });
    expect(await send(socket, 'three again')).toMatchObject({ ok: true });
  });

  it('a send or regenerate the open chats refuse stores nothing (the limit is counted by the turn’s own insert)', async () => {
    // Four chat actions each (RATE_CHAT_PER_MINUTE): two accepted, one refused, and after two
    // cancels one more, which passes only if the refused turn left no open job behind.
    const regenerating = await api.token('regenerating');
    const socket = await connect(regenerating);
    const regenerate = (messageId: string) =>
      socket.timeout(10_000).emitWithAck('chat:regenerate', { messageId }) as Promise<Ack & { assistantMessageId?: string; conversationId?: string }>;
    const first = (await send(socket, 'one')) as Ack & { assistantMessageId: string };
    const again = await regenerate(first.assistantMessageId);
    expect(again).toMatchObject({ ok: true });
    expect(await regenerate(again.assistantMessageId!)).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    const conversation = await request(api.url).get(`/v1/conversations/${again.conversationId}`).set('authorization', `Bearer ${regenerating}`).expect(200);
    expect(conversation.body.messages).toHaveLength(3); // the question and its two answers
    // Nor a place in the model's line (taken beside the insert, given back when it refused).
    await expectOwnPlacesInLine([first.jobId!, again.jobId!]);
    for (const jobId of [first.jobId!, again.jobId!]) expect(await cancel(socket, jobId)).toMatchObject({ ok: true });
    expect(await send(socket, 'room again')).toMatchObject({ ok: true });

    const sending = await api.token('sending');
    const other = await connect(sending);
    const accepted = [await send(other, 'one'), await send(other, 'two')];
    expect(await send(other, 'three')).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    const list = await request(api.url).get('/v1/conversations').set('authorization', `Bearer ${sending}`).expect(200);
    expect(list.body.items).toHaveLength(2);
    await expectOwnPlacesInLine(accepted.map((a) => a.jobId!));
    for (const ack of accepted) expect(await cancel(other, ack.jobId!)).toMatchObject({ ok: true });
    expect(await send(other, 'room again')).toMatchObject({ ok: true });
  });

  it('a burst of sends cannot pass the open-chat limit together', async () => {
    const socket = await connect(await api.token('bursty'));
    const acks = await Promise.all(Array.from({ length: 4 }, (_, i) => send(socket, `burst ${i}`)));
    const accepted = acks.filter((a) => a.ok).length;
    expect(accepted).toBeGreaterThanOrEqual(1);
    expect(accepted).toBeLessThanOrEqual(2);
    expect(acks.filter((a) => !a.ok).every((a) => a.error?.code === 'rate_limited')).toBe(true);
  });

  it('a send one check refuses gives back what the other took (they run together): its place among open chats, its bytes', async () => {
    // Refused for its size while its place among the open chats was held: the place is free again.
    const sizable = await connect(await api.token('sizable'));
    expect((await send(sizable, 'one')).ok).toBe(true);
    expect(await send(sizable, 'x'.repeat(41_000))).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect((await send(sizable, 'two')).ok).toBe(true); // 2 open chats of 2: none kept for the refused send

    // Refused for the open chats (2 of 2) while its bytes were counted: they are taken back.
    const crowded = await connect(await api.token('crowded'));
    const first = await send(crowded, 'one');
    expect((await send(crowded, 'x'.repeat(30_000))).ok).toBe(true);
    expect(await send(crowded, 'x'.repeat(9_000))).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(await cancel(crowded, first.jobId!)).toMatchObject({ ok: true });
    // 3 + 30,000 + 9,000 bytes fit in 40,000 only without the refused send's 9,000.
    expect((await send(crowded, 'x'.repeat(9_000))).ok).toBe(true);
  });

  it('a job submission refused for its rate adds nothing to the bytes counted for its user (whose chats share the figure)', async () => {
    const token = await api.token('thrifty', { scopes: ['jobs:write'] });
    const submit = (text: string) => request(api.url).post('/v1/jobs/summarize').set('authorization', `Bearer ${token}`).send({ text });
    for (let i = 0; i < 5; i++) expect((await submit(`small ${i}`)).status).toBe(202);
    expect((await submit('x'.repeat(30_000))).status).toBe(429);
    // The five small jobs and 30,000 bytes fit in 40,000 only without the refused submission's 30,000.
    expect((await send(await connect(token), 'x'.repeat(30_000))).ok).toBe(true);
  });

  it('chat sends per user per minute', async () => {
    const socket = await connect(await api.token('chatty'));
    const acks: Ack[] = [];
    for (let i = 0; i < 5; i++) {
      const ack = await send(socket, `message ${i}`);
      acks.push(ack);
      if (ack.ok) await cancel(socket, ack.jobId!); // stay under the concurrency limit
    }
    expect(acks.map((a) => a.ok)).toEqual([true, true, true, true, false]);
    expect(acks[4]!.error).toMatchObject({ code: 'rate_limited', retryAfterMs: expect.any(Number) });
    expect(acks[4]!.error!.retryAfterMs!).toBeGreaterThan(0);
    // Past its limit a user is refused from the node's memory: its sends no longer reach Redis.
    for (let i = 0; i < 3; i++) expect((await send(socket, `more ${i}`)).error?.code).toBe('rate_limited');
    const redis = new Redis(testRedisUrl);
    try {
      expect(Number(await redis.get(`${api.config.queuePrefix}:rate:chat:local:chatty`))).toBe(4);
    } finally {
      redis.disconnect();
    }
  });

  it('open sockets per user: the fourth connection is refused with rate_limited; closing one makes room', async () => {
    const token = await api.token('tabs');
    const open = [await connect(token), await connect(token), await connect(token)];
    const refused = await connect(token).then(
      () => undefined,
      (err: Error & { data?: { code: string; retryAfterMs?: number } }) => err.data,
    );
    expect(refused).toMatchObject({ code: 'rate_limited', retryAfterMs: expect.any(Number) });
    open[0]!.close();
    let again: Socket | undefined;
    for (let i = 0; i < 50 && !again; i++) {
      again = await connect(token).catch(() => undefined);
      if (!again) await new Promise((r) => setTimeout(r, 100));
    }
    expect(again?.connected).toBe(true);
  });

  it('stored bytes per user', async () => {
    const token = await api.token('hoarder', { scopes: ['jobs:write'] });
    const submit = () => request(api.url).post('/v1/jobs/summarize').set('authorization', `Bearer ${token}`).send({ text: 'x'.repeat(25_000) });
    expect((await submit()).status).toBe(202);
    const over = await submit();
    expect({ status: over.status, code: over.body.error?.code }).toEqual({ status: 429, code: 'rate_limited' });
  });

  describe('stored bytes: the figure Postgres sums is read off the request path', () => {
    let redis: Redis;
    beforeAll(() => {
      redis = new Redis(testRedisUrl);
    });
    afterAll(() => redis.disconnect());
    /** The user's cached figure and freshness mark (the owner is the token's subject). */
    const keysOf = async (user: string): Promise<[figure: string, fresh: string]> => {
      for (const deadline = Date.now() + 5_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
        const [figure] = await redis.keys(`${api.config.queuePrefix}:stored-bytes:*${user}`);
        const fresh = figure?.replace(':stored-bytes:', ':stored-bytes-fresh:');
        if (figure && fresh && (await redis.exists(fresh))) return [figure, fresh];
      }
      throw new Error(`no fresh stored-bytes figure for ${user}`);
    };
    const submitter = async (user: string) => {
      const token = await api.token(user, { scopes: ['jobs:write'] });
      // Text Postgres cannot compress: it stores about as many bytes as it was sent.
      return (chars: number) =>
        request(api.url).post('/v1/jobs/summarize').set('authorization', `Bearer ${token}`).send({ text: randomBytes(chars).toString('base64').slice(0, chars) });
    };

    it('a figure more than a minute old lets a submission through at once; the figure read behind it refuses the next', async () => {
      const submit = await submitter('stale-behind');
      expect((await submit(25_000)).status).toBe(202);
      // A minute later the cached figure has fallen behind Postgres (e.g. answers written since).
      const [figure, fresh] = await keysOf('stale-behind');
      await redis.multi().set(figure, '1000', 'KEEPTTL').del(fresh).exec();
      expect((await submit(10_000)).status).toBe(202);
      await keysOf('stale-behind'); // read again behind the submission: the truth, about 35 KB
      expect(Number(await redis.get(figure))).toBeGreaterThan(30_000);
      const over = await submit(10_000);
      expect({ status: over.status, code: over.body.error?.code }).toEqual({ status: 429, code: 'rate_limited' });
    });

    it("a request's bytes count even when its write lands after the read behind it", async () => {
      const submit = await submitter('stale-slow');
      expect((await submit(25_000)).status).toBe(202);
      const [figure, fresh] = await keysOf('stale-slow');
      await redis.multi().set(figure, '1000', 'KEEPTTL').del(fresh).exec();
      // Held: the submission's insert waits for this lock; the read behind it (a select) does not.
      const holder = new pg.Client({ connectionString: api.config.databaseUrl });
      await holder.connect();
      try {
        await holder.query('begin');
        await holder.query('lock table jobs in share mode');
        const slow = submit(10_000).then((res) => res);
        await keysOf('stale-slow'); // the read ended: it summed 25 KB, without this submission
        await holder.query('commit');
        expect((await slow).status).toBe(202);
      } finally {
        await holder.end();
      }
      expect(Number(await redis.get(figure))).toBeGreaterThan(30_000);
    });

    it('a figure more than a minute old that would refuse is read again first (the user deleted since)', async () => {
      const submit = await submitter('stale-over');
      expect((await submit(25_000)).status).toBe(202);
      const [figure, fresh] = await keysOf('stale-over');
      await redis.multi().set(figure, String(10 ** 9), 'KEEPTTL').del(fresh).exec();
      expect((await submit(10_000)).status).toBe(202);
      expect(Number(await redis.get(figure))).toBeLessThan(40_000);
    });

    it("a socket's connect reads the user's figure before their first send (users connecting together share one read)", async () => {
      const submit = await submitter('early-owl');
      expect((await submit(20_000)).status).toBe(202);
      await redis.del(...(await keysOf('early-owl')));
      await Promise.all([connect(await api.token('early-bird')), connect(await api.token('early-owl'))]);
      const [bird] = await keysOf('early-bird');
      const [owl] = await keysOf('early-owl');
      expect(await redis.get(bird)).toBe('0');
      expect(Number(await redis.get(owl))).toBeGreaterThan(20_000);
    });
  });
});
