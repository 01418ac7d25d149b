import { Queue } from 'bullmq';
import request from 'supertest';
import { emulatorAnswer } from '@switchboard/bedrock-emulator';
import type { ConversationWithMessages } from '@switchboard/contracts';
import { chatQueueName } from '@switchboard/server-core';
import { ChatClient, range } from '../support/chat-client.js';
import { isRunning, type Stack, startStack } from '../support/stack.js';

const modelId = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const expectedAnswer = (text: string) =>
  emulatorAnswer({ modelId, messages: [{ role: 'user', content: [{ text }] }], maxTokens: 4096 });

describe('chat over two API nodes and two workers', () => {
  let stack: Stack;
  let token: string;
  const clients: ChatClient[] = [];
  const connect = async (api: number, as = token) => {
    const client = await ChatClient.connect(stack.apis[api]!.url!, as);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    stack = await startStack({ apis: 2, workers: 2 });
    token = await stack.token('ana');
  }, 120_000);

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('streams the answer to every socket of the user, on both nodes, and stores it', async () => {
    const a = await connect(0);
    const b = await connect(1);
    const text = 'Explain queues briefly [[emulator:tokens=120]]';
    const ack = await a.send({ content: [{ type: 'text', text }], clientMessageId: 'first' });
    if (!ack.ok) throw new Error(ack.error.message);

    await a.waitForEnd(ack.jobId);
    await b.waitForEnd(ack.jobId);
    const expected = expectedAnswer(text);
    const done = a.done.get(ack.jobId)!;
    expect(a.text(ack.jobId)).toBe(expected.text);
    expect(done.text).toBe(expected.text);
    expect(done.usage).toEqual({ inputTokens: expected.inputTokens, outputTokens: expected.outputTokens });
    expect(done.stopReason).toBe('end_turn');
    expect(a.seqs(ack.jobId)).toEqual(range(1, a.seqs(ack.jobId).length));
    expect(b.deltas.get(ack.jobId)).toEqual(a.deltas.get(ack.jobId));
    expect(b.done.get(ack.jobId)).toEqual(done);

    const res = await request(stack.apis[1]!.url!)
      .get(`/v1/conversations/${ack.conversationId}`)
      .set('authorization', `Bearer ${token}`)
      .expect(200);
    const conversation = res.body as ConversationWithMessages;
    expect(conversation.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    const answer = conversation.messages[1]!;
    expect(answer.id).toBe(done.messageId);
    expect(answer.content).toEqual([{ type: 'text', text: expected.text }]);
    expect(answer.status).toBe('complete');
    expect(answer.usage).toEqual(done.usage);

    // The same clientMessageId is a safe retry: same job, no second turn.
    const again = await b.send({ content: [{ type: 'text', text }], clientMessageId: 'first' });
    expect(again).toEqual(ack);
  });

  it('continues a conversation with its history and system prompt', async () => {
    const a = await connect(1);
    const created = await request(stack.apis[0]!.url!)
      .post('/v1/conversations')
      .set('authorization', `Bearer ${token}`)
      .send({ title: 'Pirates', systemPrompt: 'Talk like a pirate', params: { temperature: 0.2, topK: 40, maxTokens: 300 } })
      .expect(201);
    const conversationId = created.body.id as string;
    const first = await a.send({ conversationId, content: [{ type: 'text', text: 'Ahoy [[emulator:tokens=20]]' }] });
    if (!first.ok) throw new Error(first.error.message);
    await a.waitForEnd(first.jobId);
    const second = await a.send({ conversationId, content: [{ type: 'text', text: 'And then? [[emulator:tokens=500]]' }] });
    if (!second.ok) throw new Error(second.error.message);
    await a.waitForEnd(second.jobId);
    const expected = emulatorAnswer({
      modelId,
      system: [{ text: 'Talk like a pirate' }],
      messages: [
        { role: 'user', content: [{ text: 'Ahoy [[emulator:tokens=20]]' }] },
        { role: 'assistant', content: [{ text: a.done.get(first.jobId)!.text }] },
        { role: 'user', content: [{ text: 'And then? [[emulator:tokens=500]]' }] },
      ],
      maxTokens: 300,
    });
    const done = a.done.get(second.jobId)!;
    expect(done.text).toBe(expected.text);
    expect(done.stopReason).toBe('max_tokens');
    expect(done.usage.outputTokens).toBe(300);
    expect(done.usage.inputTokens).toBe(expected.inputTokens);
  });

  it('cancels mid-stream: the emulator sees its stream closed and the partial text is kept', async () => {
    const a = await connect(0);
    const aborted = new Promise<void>((resolve) => stack.emulator.on('streamAborted', () => resolve()));
    const ack = await a.send({ content: [{ type: 'text', text: 'Long one [[emulator:tokens=3000,tps=100]]' }] });
    if (!ack.ok) throw new Error(ack.error.message);
    await a.waitFor(() => (a.deltas.get(ack.jobId)?.length ?? 0) >= 5, 20_000, 'five deltas');

    // Cancel through the other node: it reaches whichever worker holds the job.
    const other = await connect(1);
    expect(await other.emit('chat:cancel', { jobId: ack.jobId })).toEqual({ ok: true });
    await aborted;
    await a.waitForEnd(ack.jobId);
    const done = a.done.get(ack.jobId)!;
    expect(done.stopReason).toBe('cancelled');
    expect(done.text).toBe(a.text(ack.jobId));
    expect(done.text.length).toBeGreaterThan(0);
    expect(expectedAnswer('Long one [[emulator:tokens=3000,tps=100]]').text.startsWith(done.text)).toBe(true);

    const res = await request(stack.apis[0]!.url!)
      .get(`/v1/conversations/${ack.conversationId}`)
      .set('authorization', `Bearer ${token}`)
      .expect(200);
    const answer = (res.body as ConversationWithMessages).messages[1]!;
    expect(answer.status).toBe('cancelled');
    expect(answer.content).toEqual([{ type: 'text', text: done.text }]);
    // Cancelling again is a conflict, not a crash.
    const again = await a.emit('chat:cancel', { jobId: ack.jobId });
    expect(again).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('cancels right after sending, whether or not a worker holds the job yet', async () => {
    const a = await connect(0);
    const ack = await a.send({ content: [{ type: 'text', text: 'Quick [[emulator:tokens=2000,tps=50,ttfb=500]]' }] });
    if (!ack.ok) throw new Error(ack.error.message);
    expect(await a.emit('chat:cancel', { jobId: ack.jobId })).toEqual({ ok: true });
    await a.waitForEnd(ack.jobId);
    expect(a.done.get(ack.jobId)!.stopReason).toBe('cancelled');
  });

  it('stops the answers of a deleted conversation, streaming or not yet started', async () => {
    const a = await connect(0);
    const remove = (conversationId: string) =>
      request(stack.apis[1]!.url!).delete(`/v1/conversations/${conversationId}`).set('authorization', `Bearer ${token}`).expect(204);
    // Left running, either answer below would stream for 30 s or more: its worker must let go of it
    // within seconds of the delete.
    const queue = new Queue(chatQueueName, { connection: { url: stack.env.REDIS_URL }, prefix: stack.env.QUEUE_PREFIX });
    const letGo = async (jobId: string) => {
      const deadline = Date.now() + 10_000;
      for (let state = await queue.getJobState(jobId); state !== 'completed' && state !== 'unknown'; state = await queue.getJobState(jobId)) {
        if (Date.now() > deadline) throw new Error(`job still ${state} 10 s after its conversation was deleted`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      // Streaming: deleted through the other node, the worker holding it stops.
      const streaming = await a.send({ content: [{ type: 'text', text: 'Long one to delete [[emulator:tokens=3000,tps=100]]' }] });
      if (!streaming.ok) throw new Error(streaming.error.message);
      await a.waitFor(() => (a.deltas.get(streaming.jobId)?.length ?? 0) >= 5, 20_000, 'five deltas');
      await remove(streaming.conversationId);
      await letGo(streaming.jobId);

      // Deleted at once, whether or not a worker holds it yet.
      const early = await a.send({ content: [{ type: 'text', text: 'Deleted at once [[emulator:tokens=2000,tps=50,ttfb=500]]' }] });
      if (!early.ok) throw new Error(early.error.message);
      await remove(early.conversationId);
      await letGo(early.jobId);
    } finally {
      await queue.close();
    }
  });

  it('resumes on the other node after a disconnect: the whole answer, no gap, no duplicate', async () => {
    const text = 'Resume me [[emulator:tokens=400,tps=200]]';
    const first = await connect(0);
    const ack = await first.send({ content: [{ type: 'text', text }] });
    if (!ack.ok) throw new Error(ack.error.message);
    await first.waitFor(() => (first.deltas.get(ack.jobId)?.length ?? 0) >= 3, 20_000, 'three deltas');
    first.close();
    const seen = first.deltas.get(ack.jobId)!;
    const afterSeq = seen.at(-1)!.seq;

    const second = await connect(1);
    expect(await second.emit('chat:resume', { jobId: ack.jobId, afterSeq })).toEqual({ ok: true });
    await second.waitForEnd(ack.jobId);
    const resumed = second.deltas.get(ack.jobId)!;
    expect(resumed[0]!.seq).toBe(afterSeq + 1);
    expect([...seen, ...resumed].map((d) => d.seq)).toEqual(range(1, afterSeq + resumed.length));
    expect(seen.map((d) => d.text).join('') + second.text(ack.jobId)).toBe(expectedAnswer(text).text);
    expect(second.done.get(ack.jobId)!.text).toBe(expectedAnswer(text).text);

    // Resuming a finished job replays from the stream, then done.
    const third = await connect(0);
    expect(await third.emit('chat:resume', { jobId: ack.jobId, afterSeq: 0 })).toEqual({ ok: true });
    await third.waitForEnd(ack.jobId);
    expect(third.text(ack.jobId)).toBe(expectedAnswer(text).text);
  });

  describe('bad input', () => {
    it('rejects a missing or bad token at the handshake', async () => {
      const missing = await ChatClient.connectError(stack.apis[0]!.url!, undefined);
      expect(missing.data).toMatchObject({ code: 'unauthorized' });
      const bad = await ChatClient.connectError(stack.apis[1]!.url!, 'not-a-jwt');
      expect(bad.data).toMatchObject({ code: 'unauthorized' });
      const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      expect((await ChatClient.connectError(stack.apis[0]!.url!, forged)).data).toMatchObject({ code: 'unauthorized' });
    });

    it('answers malformed events with ok:false and clear codes', async () => {
      const a = await connect(0);
      const cases: [string, unknown, string][] = [
        ['chat:send', 'hello', 'validation_failed'],
        ['chat:send', null, 'validation_failed'],
        ['chat:send', { content: [] }, 'validation_failed'],
        ['chat:send', { content: [{ type: 'video', data: 'x' }] }, 'validation_failed'],
        ['chat:send', { content: [{ type: 'image', mediaType: 'image/png', data: 'not base64!' }] }, 'validation_failed'],
        ['chat:send', { content: [{ type: 'text', text: 'hi' }], params: { temperature: 7 } }, 'validation_failed'],
        ['chat:send', { content: [{ type: 'text', text: 'hi' }], params: { maxTokens: 100_000 } }, 'validation_failed'],
        ['chat:send', { content: [{ type: 'text', text: 'hi' }], modelId: 'no-such-model' }, 'model_not_found'],
        ['chat:send', { content: [{ type: 'text', text: 'hi' }], conversationId: 'nope' }, 'not_found'],
        ['chat:send', { content: [{ type: 'text', text: 'x'.repeat(200_001) }] }, 'content_too_large'],
        ['chat:cancel', {}, 'validation_failed'],
        ['chat:cancel', { jobId: '00000000-0000-4000-8000-000000000000' }, 'not_found'],
        ['chat:resume', { jobId: 'abc', afterSeq: -1 }, 'validation_failed'],
        ['chat:resume', { jobId: '00000000-0000-4000-8000-000000000000', afterSeq: 0 }, 'not_found'],
      ];
      for (const [event, payload, code] of cases) {
        const ack = await a.emit(event, payload);
        expect({ event, payload: JSON.stringify(payload).slice(0, 80), ack: ack.ok, code: ack.error?.code }).toEqual({
          event,
          payload: JSON.stringify(payload).slice(0, 80),
          ack: false,
          code,
        });
        expect(typeof ack.error?.message).toBe('string');
      }
    });

    it("does not let one user reach another user's conversation or job", async () => {
      const ana = await connect(0);
      const ack = await ana.send({ content: [{ type: 'text', text: 'Mine [[emulator:tokens=10]]' }] });
      if (!ack.ok) throw new Error(ack.error.message);
      await ana.waitForEnd(ack.jobId);

      const otherToken = await stack.token('eve');
      const eve = await connect(1, otherToken);
      expect(await eve.send({ conversationId: ack.conversationId, content: [{ type: 'text', text: 'hi' }] })).toMatchObject({
        ok: false,
        error: { code: 'not_found' },
      });
      expect(await eve.emit('chat:resume', { jobId: ack.jobId, afterSeq: 0 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
      expect(await eve.emit('chat:cancel', { jobId: ack.jobId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
      await request(stack.apis[1]!.url!)
        .get(`/v1/conversations/${ack.conversationId}`)
        .set('authorization', `Bearer ${otherToken}`)
        .expect(404);
      expect(eve.deltas.size + eve.done.size).toBe(0);
    });

    it('keeps every process up', async () => {
      for (const api of stack.apis) {
        expect(isRunning(api)).toBe(true);
        await request(api.url!).get('/readyz').expect(200);
      }
      for (const worker of stack.workers) expect(isRunning(worker)).toBe(true);
    });
  });
});
