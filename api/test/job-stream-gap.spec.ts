import { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import type { ChatDeltaEvent, ChatDoneEvent, ChatSendAck } from '@switchboard/contracts';
import { appendToJobStream, endJobStream } from '@switchboard/server-core';
import { startTestApi, type TestApi } from './support/test-api.js';

/**
 * A job stream that lost entries (a Redis primary killed before it replicated them) has a hole
 * that never fills. The relay goes on after it instead of reading the stream again and again, for
 * the live watcher and for a resume from the start. No worker runs here: the test writes the
 * stream the way a worker does.
 */
describe('job relay over a stream with lost entries', () => {
  let api: TestApi;
  let redis: Redis;
  const sockets: Socket[] = [];

  const connect = async (token: string) => {
    const socket = io(`${api.url}/chat`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return socket;
  };
  const collect = (socket: Socket, jobId: string) => {
    const seqs: number[] = [];
    const done = new Promise<ChatDoneEvent>((resolve) =>
      socket.on('chat:done', (e: ChatDoneEvent) => {
        if (e.jobId === jobId) resolve(e);
      }),
    );
    socket.on('chat:delta', (e: ChatDeltaEvent) => {
      if (e.jobId === jobId) seqs.push(e.seq);
    });
    return { seqs, done };
  };

  beforeAll(async () => {
    api = await startTestApi();
    redis = new Redis(api.config.redisUrl);
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await new Promise((r) => setTimeout(r, 300));
    redis.disconnect();
    await api?.stop();
  });

  it('delivers the entries after the hole, then the end, live and on resume', async () => {
    const token = await api.token('gap-user');
    const socket = await connect(token);
    const ack = (await socket.timeout(10_000).emitWithAck('chat:send', { content: [{ type: 'text', text: 'Hello' }] })) as ChatSendAck;
    if (!ack.ok) throw new Error(ack.error.message);
    const watched = collect(socket, ack.jobId);

    await appendToJobStream(redis, ack.jobId, { kind: 'delta', seq: 1, text: 'One ' });
    // seq 2 and 3 were lost with the node that held them.
    await appendToJobStream(redis, ack.jobId, { kind: 'delta', seq: 4, text: 'four.' });
    await endJobStream(redis, ack.jobId, { status: 'completed', conversationId: ack.conversationId, messageId: ack.assistantMessageId!, text: 'One two three four.', stopReason: 'end_turn', usage: null }, 5);

    const done = await watched.done;
    expect(done.text).toBe('One two three four.');
    expect(watched.seqs).toEqual([1, 4]);

    // Another tab asks for everything from the start.
    const other = await connect(token);
    const resumed = collect(other, ack.jobId);
    expect(await other.timeout(10_000).emitWithAck('chat:resume', { jobId: ack.jobId, afterSeq: 0 })).toEqual({ ok: true });
    expect((await resumed.done).text).toBe('One two three four.');
    expect(resumed.seqs).toEqual([1, 4]);
  }, 30_000);
});
