import request from 'supertest';
import { emulatorAnswer } from '@switchboard/bedrock-emulator';
import type { ConversationUpdatedEvent, ConversationWithMessages } from '@switchboard/contracts';
import { cleanTitle, firstWordsTitle, titleRequest } from '@switchboard/server-core';
import { ChatClient } from '../support/chat-client.js';
import { type Stack, startStack } from '../support/stack.js';

const modelId = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

/** Issue 18, server side: titles through the batch lane, conversation:updated across nodes, billed stops. */
describe('conversation titles, updates and billed stops (two API nodes)', () => {
  let stack: Stack;
  let token: string;
  const clients: ChatClient[] = [];
  const connect = async (api: number) => {
    const client = await ChatClient.connect(stack.apis[api]!.url!, token);
    clients.push(client);
    return client;
  };
  const updates = (client: ChatClient) => {
    const seen: ConversationUpdatedEvent[] = [];
    client.socket.on('conversation:updated', (e: ConversationUpdatedEvent) => seen.push(e));
    return seen;
  };
  /** Resolves once the predicate holds, checked on every conversation:updated the client gets. */
  const until = (client: ChatClient, predicate: () => boolean, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      if (predicate()) return resolve();
      const timer = setTimeout(() => reject(new Error('timed out waiting for conversation:updated')), timeoutMs);
      client.socket.on('conversation:updated', () => {
        if (!predicate()) return;
        clearTimeout(timer);
        resolve();
      });
    });
  const get = async (id: string) =>
    (await request(stack.apis[0]!.url!).get(`/v1/conversations/${id}`).set('authorization', `Bearer ${token}`).expect(200)).body as ConversationWithMessages;

  beforeAll(async () => {
    stack = await startStack({ apis: 2, workers: 1 });
    token = await stack.token('tess');
  }, 120_000);

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('tells the other sockets (on another node and on its own) about the new conversation, then titles it with a model-written title', async () => {
    const a = await connect(0);
    const b = await connect(1);
    const sameNode = await connect(0);
    const seenByA = updates(a);
    const seenByB = updates(b);
    const seenOnSameNode = updates(sameNode);
    const text = 'How should we split the nightly batch between regions? [[emulator:tokens=30]]';
    const ack = await a.send({ content: [{ type: 'text', text }], clientMessageId: 'titled-1' });
    if (!ack.ok) throw new Error(ack.error.message);
    await a.waitForEnd(ack.jobId);
    // First words at once.
    const first = await get(ack.conversationId);
    expect(first.title).toBe(firstWordsTitle([{ type: 'text', text }]));
    expect(first.title).toMatch(/^How should we split the nightly batch/);

    const answer = first.messages.find((m) => m.role === 'assistant')!.content.map((b) => ('text' in b ? b.text : '')).join('');
    const req = titleRequest(text, answer);
    const expected = cleanTitle(
      emulatorAnswer({ modelId, system: [{ text: req.system }], messages: [{ role: 'user', content: [{ text: req.prompt }] }], maxTokens: req.maxTokens }).text,
    )!;
    await until(b, () => seenByB.some((e) => e.change === 'title'));
    expect(seenByB).toEqual(
      expect.arrayContaining([
        { conversationId: ack.conversationId, change: 'created', jobId: ack.jobId },
        { conversationId: ack.conversationId, change: 'answered', jobId: ack.jobId },
        { conversationId: ack.conversationId, change: 'title', title: expected },
      ]),
    );
    // Another tab on the sender's node hears of it too; the sender's own socket is not told about its own send (it has the ack).
    expect(seenOnSameNode).toContainEqual({ conversationId: ack.conversationId, change: 'created', jobId: ack.jobId });
    expect(seenByA.filter((e) => e.change === 'created')).toEqual([]);
    expect((await get(ack.conversationId)).title).toBe(expected);
  });

  it('never overwrites a title somebody chose', async () => {
    const a = await connect(0);
    const created = await request(stack.apis[1]!.url!)
      .post('/v1/conversations')
      .set('authorization', `Bearer ${token}`)
      .send({ title: 'Budget review' })
      .expect(201);
    const ack = await a.send({ conversationId: created.body.id, content: [{ type: 'text', text: 'Numbers please [[emulator:tokens=10]]' }] });
    if (!ack.ok) throw new Error(ack.error.message);
    await a.waitForEnd(ack.jobId);
    // A later exchange in a titled conversation: the title job (if any) finds nothing to do.
    const again = await a.send({ conversationId: created.body.id, content: [{ type: 'text', text: 'More [[emulator:tokens=10]]' }] });
    if (!again.ok) throw new Error(again.error.message);
    await a.waitForEnd(again.jobId);
    expect((await get(created.body.id)).title).toBe('Budget review');
  });

  it('a stopped answer records the tokens it delivered, in the message, the done event and the totals', async () => {
    const a = await connect(1);
    const ack = await a.send({ content: [{ type: 'text', text: 'A very long answer [[emulator:tokens=3000,tps=50]]' }] });
    if (!ack.ok) throw new Error(ack.error.message);
    await a.waitFor(() => (a.deltas.get(ack.jobId)?.length ?? 0) >= 10, 30_000, 'some deltas');
    expect(await a.emit('chat:cancel', { jobId: ack.jobId })).toEqual({ ok: true });
    await a.waitForEnd(ack.jobId);
    const done = a.done.get(ack.jobId)!;
    expect(done.stopReason).toBe('cancelled');
    expect(done.usage.outputTokens).toBeGreaterThanOrEqual(10);
    expect(done.usage.inputTokens).toBeGreaterThan(0);
    expect(done.cost).toBeGreaterThan(0);
    const conversation = await get(ack.conversationId);
    const answer = conversation.messages.find((m) => m.role === 'assistant')!;
    expect(answer.status).toBe('cancelled');
    expect(answer.usage).toEqual(done.usage);
    expect(conversation.usage!.outputTokens).toBe(done.usage.outputTokens);
  });
});
