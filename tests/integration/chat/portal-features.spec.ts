import request from 'supertest';
import { emulatorAnswer } from '@switchboard/bedrock-emulator';
import type { ChatSendAck, ConversationWithMessages, ModelParams } from '@switchboard/contracts';
import { ChatClient } from '../support/chat-client.js';
import { type Stack, startStack } from '../support/stack.js';

const sonnet = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const haiku = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const sonnetPrice = { inputPer1k: 0.003, outputPer1k: 0.015 };
type Turn = { role: 'user' | 'assistant'; text: string };
const answerTo = (turns: Turn[], opts: { modelId?: string; system?: string } = {}) =>
  emulatorAnswer({
    modelId: opts.modelId ?? sonnet,
    ...(opts.system ? { system: [{ text: opts.system }] } : {}),
    messages: turns.map((t) => ({ role: t.role, content: [{ text: t.text }] })),
    maxTokens: 4096,
  });

/** Branches, regenerate, history limits, compression and cost through real API and worker processes. */
describe('portal features over API and worker processes', () => {
  let stack: Stack;
  let token: string;
  let client: ChatClient;
  const api = () => stack.apis[0]!.url!;
  const auth = () => ({ authorization: `Bearer ${token}` });

  const createConversation = async (params: ModelParams = {}, systemPrompt?: string) =>
    (await request(api()).post('/v1/conversations').set(auth()).send({ params, systemPrompt }).expect(201)).body.id as string;
  const get = async (id: string) => (await request(api()).get(`/v1/conversations/${id}`).set(auth()).expect(200)).body as ConversationWithMessages;
  /** Sends or regenerates and waits for the answer's text. */
  const turn = async (event: 'chat:send' | 'chat:regenerate', payload: object) => {
    const ack = await client.emit<ChatSendAck>(event, payload);
    if (!ack.ok) throw new Error(`${ack.error.code}: ${ack.error.message}`);
    await client.waitForEnd(ack.jobId);
    const done = client.done.get(ack.jobId);
    if (!done) throw new Error(`job failed: ${JSON.stringify(client.errors.get(ack.jobId))}`);
    return { ...ack, done };
  };
  const say = (conversationId: string, text: string, extra: object = {}) =>
    turn('chat:send', { conversationId, content: [{ type: 'text', text }], ...extra });

  beforeAll(async () => {
    stack = await startStack({ apis: 1, workers: 1 });
    token = await stack.token('nora');
    client = await ChatClient.connect(api(), token);
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await stack?.stop();
  }, 60_000);

  it('sends only the last historyMessages messages of the branch', async () => {
    const id = await createConversation({ historyMessages: 3 });
    const t1 = await say(id, 'One [[emulator:tokens=15]]');
    const t2 = await say(id, 'Two [[emulator:tokens=15]]');
    const t3 = await say(id, 'Three [[emulator:tokens=15]]');
    expect(t1.done.text).toBe(answerTo([{ role: 'user', text: 'One [[emulator:tokens=15]]' }]).text);
    // u1, a1, u2 fit in three.
    expect(t2.done.text).toBe(
      answerTo([
        { role: 'user', text: 'One [[emulator:tokens=15]]' },
        { role: 'assistant', text: t1.done.text },
        { role: 'user', text: 'Two [[emulator:tokens=15]]' },
      ]).text,
    );
    // Only u2, a2, u3: the first exchange is no longer sent.
    const expected = answerTo([
      { role: 'user', text: 'Two [[emulator:tokens=15]]' },
      { role: 'assistant', text: t2.done.text },
      { role: 'user', text: 'Three [[emulator:tokens=15]]' },
    ]);
    expect(t3.done.text).toBe(expected.text);
    expect(t3.done.usage.inputTokens).toBe(expected.inputTokens);
  });

  it('compresses history past compressThreshold: status compressing, summary on the conversation, next requests send summary + recent messages', async () => {
    const system = 'Answer as a historian.';
    const id = await createConversation({ compressThreshold: 500 }, system);
    const q = (n: number) => `Question ${n} [[emulator:tokens=250]]`;
    const t1 = await say(id, q(1));
    const t2 = await say(id, q(2));
    expect((await get(id)).summary).toBeNull(); // ~400 estimated tokens of history: under the threshold
    expect(client.statuses.get(t2.jobId)!.map((s) => s.state)).not.toContain('compressing');

    const t3 = await say(id, q(3));
    expect(client.statuses.get(t3.jobId)!.map((s) => s.state)).toContain('compressing');
    let conversation = await get(id);
    const [u1, a1] = conversation.messages;
    expect(conversation.summary).toMatchObject({ coversMessages: 2, uptoMessageId: a1!.id, text: expect.any(String) });
    expect(conversation.summary!.text.length).toBeGreaterThan(20);
    expect(u1!.role).toBe('user');
    // The summary stands for u1, a1; u2, a2 and the question follow as they are.
    const expected3 = answerTo(
      [
        { role: 'user', text: q(2) },
        { role: 'assistant', text: t2.done.text },
        { role: 'user', text: q(3) },
      ],
      { system: `${system}\n\nSummary of the earlier part of this conversation:\n${conversation.summary!.text}` },
    );
    expect(t3.done.text).toBe(expected3.text);
    expect(t3.done.usage.inputTokens).toBe(expected3.inputTokens);
    expect(t3.done.text).not.toBe(answerTo([{ role: 'user', text: q(1) }, { role: 'assistant', text: t1.done.text }, { role: 'user', text: q(2) }, { role: 'assistant', text: t2.done.text }, { role: 'user', text: q(3) }], { system }).text);

    // The next turn is over the threshold again: the summary is rolled forward over u2, a2.
    const first = conversation.summary!;
    const t4 = await say(id, q(4));
    conversation = await get(id);
    expect(conversation.summary).toMatchObject({ coversMessages: 4, uptoMessageId: conversation.messages[3]!.id });
    expect(conversation.summary!.text).not.toBe(first.text);
    expect(t4.done.text).toBe(
      answerTo(
        [
          { role: 'user', text: q(3) },
          { role: 'assistant', text: t3.done.text },
          { role: 'user', text: q(4) },
        ],
        { system: `${system}\n\nSummary of the earlier part of this conversation:\n${conversation.summary!.text}` },
      ).text,
    );
    // The two compression calls count in the conversation's totals, on top of the answers.
    const answers = conversation.messages.filter((m) => m.role === 'assistant');
    const sum = (f: (m: (typeof answers)[number]) => number) => answers.reduce((total, m) => total + f(m), 0);
    expect(conversation.usage!.inputTokens).toBeGreaterThan(sum((m) => m.usage!.inputTokens));
    expect(conversation.usage!.outputTokens).toBeGreaterThan(sum((m) => m.usage!.outputTokens));
    expect(conversation.usage!.cost).toBeGreaterThan(sum((m) => m.cost!));
  });

  it('stores one turn for a clientMessageId sent twice at once, for send and regenerate', async () => {
    const id = await createConversation();
    const send = { conversationId: id, content: [{ type: 'text', text: 'Once [[emulator:tokens=5]]' }], clientMessageId: 'twice-send' };
    const [a, b] = await Promise.all([client.emit<ChatSendAck>('chat:send', send), client.emit<ChatSendAck>('chat:send', send)]);
    if (!a.ok || !b.ok) throw new Error('send refused');
    expect(b.jobId).toBe(a.jobId);
    await client.waitForEnd(a.jobId);
    const regenerate = { messageId: a.assistantMessageId, clientMessageId: 'twice-regenerate' };
    const [c, d] = await Promise.all([client.emit<ChatSendAck>('chat:regenerate', regenerate), client.emit<ChatSendAck>('chat:regenerate', regenerate)]);
    if (!c.ok || !d.ok) throw new Error('regenerate refused');
    expect(d.jobId).toBe(c.jobId);
    await client.waitForEnd(c.jobId);
    expect((await get(id)).messages.map((m) => m.role)).toEqual(['user', 'assistant', 'assistant']);
  });

  it('regenerates an answer as a sibling; both stay viewable', async () => {
    const id = await createConversation();
    const question = 'Name a river [[emulator:tokens=30]]';
    const first = await say(id, question);
    const again = await turn('chat:regenerate', { messageId: first.done.messageId, modelId: haiku });
    expect(again.messageId).toBe(first.messageId);
    expect(again.done.text).toBe(answerTo([{ role: 'user', text: question }], { modelId: haiku }).text);

    const conversation = await get(id);
    expect(conversation.messages.map((m) => [m.role, m.parentId, m.modelId])).toEqual([
      ['user', null, sonnet],
      ['assistant', first.messageId, sonnet],
      ['assistant', first.messageId, haiku],
    ]);
    expect(conversation.messages[1]!.content).toEqual([{ type: 'text', text: first.done.text }]);
    expect(conversation.messages[2]!.content).toEqual([{ type: 'text', text: again.done.text }]);
    expect(conversation.activeLeafId).toBe(again.done.messageId);

    // A follow-up continues the regenerated answer's branch, not the first answer.
    const follow = await say(id, 'Longer? [[emulator:tokens=20]]');
    expect(follow.done.text).toBe(
      answerTo([
        { role: 'user', text: question },
        { role: 'assistant', text: again.done.text },
        { role: 'user', text: 'Longer? [[emulator:tokens=20]]' },
      ]).text,
    );
  });

  it('edit and resend starts a new branch from an earlier point; its answers follow that branch', async () => {
    const id = await createConversation();
    const u1 = 'Plan a trip [[emulator:tokens=25]]';
    const t1 = await say(id, u1);
    await say(id, 'To Rome [[emulator:tokens=25]]');
    const edited = 'To Kyoto instead [[emulator:tokens=25]]';
    const branch = await say(id, edited, { parentMessageId: t1.done.messageId });
    expect(branch.done.text).toBe(
      answerTo([
        { role: 'user', text: u1 },
        { role: 'assistant', text: t1.done.text },
        { role: 'user', text: edited },
      ]).text,
    );
    const next = await say(id, 'In spring [[emulator:tokens=25]]');
    expect(next.done.text).toBe(
      answerTo([
        { role: 'user', text: u1 },
        { role: 'assistant', text: t1.done.text },
        { role: 'user', text: edited },
        { role: 'assistant', text: branch.done.text },
        { role: 'user', text: 'In spring [[emulator:tokens=25]]' },
      ]).text,
    );
    const conversation = await get(id);
    expect(conversation.messages).toHaveLength(8);
    expect(conversation.messages.filter((m) => m.parentId === t1.done.messageId)).toHaveLength(2);
    expect(conversation.activeLeafId).toBe(next.done.messageId);
  });

  it('stores the cost of each answer and sums tokens and cost per conversation', async () => {
    const id = await createConversation();
    const a = await say(id, 'Cost one [[emulator:tokens=40]]');
    const b = await say(id, 'Cost two [[emulator:tokens=60]]');
    const costOf = (u: { inputTokens: number; outputTokens: number }) =>
      (u.inputTokens / 1000) * sonnetPrice.inputPer1k + (u.outputTokens / 1000) * sonnetPrice.outputPer1k;
    expect(a.done.cost).toBeCloseTo(costOf(a.done.usage), 12);
    const conversation = await get(id);
    const answers = conversation.messages.filter((m) => m.role === 'assistant');
    expect(answers.map((m) => m.cost)).toEqual([expect.closeTo(costOf(a.done.usage), 12), expect.closeTo(costOf(b.done.usage), 12)]);
    for (const m of conversation.messages.filter((m) => m.role === 'user')) expect(m.cost).toBeNull();
    const total = {
      inputTokens: a.done.usage.inputTokens + b.done.usage.inputTokens,
      outputTokens: a.done.usage.outputTokens + b.done.usage.outputTokens,
    };
    expect(conversation.usage).toEqual({ ...total, cost: expect.closeTo(costOf(a.done.usage) + costOf(b.done.usage), 12) });
    const list = (await request(api()).get('/v1/conversations?limit=100').set(auth()).expect(200)).body.items as ConversationWithMessages[];
    expect(list.find((c) => c.id === id)!.usage).toEqual(conversation.usage);
  });
});
