import pg from 'pg';
import request from 'supertest';
import { emulatorAnswer } from '@switchboard/bedrock-emulator';
import type { ConversationWithMessages } from '@switchboard/contracts';
import { cleanTitle, titleRequest } from '@switchboard/server-core';
import { ChatClient, range } from '../support/chat-client.js';
import { type Stack, startStack } from '../support/stack.js';

const sonnet45 = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const opus47 = 'us.anthropic.claude-opus-4-7';
const answerFor = (text: string) => emulatorAnswer({ modelId: sonnet45, messages: [{ role: 'user', content: [{ text }] }], maxTokens: 4096 });

/** The product against the emulator in strict mode (the default): what passes here passes Bedrock. */
describe('Bedrock fidelity: catalog rules, extended thinking, prompt caching', () => {
  let stack: Stack;
  let client: ChatClient;
  let token: string;
  let db: pg.Client;
  const api = () => request(stack.apis[0]!.url!);
  const auth = () => ({ authorization: `Bearer ${token}` });
  const rejected: string[] = [];

  beforeAll(async () => {
    stack = await startStack({ apis: 1, workers: 1 });
    expect(stack.emulator.config().lenient).toBe(false);
    stack.emulator.on('request', (r) => {
      if (r.status === 400) rejected.push(r.errorType ?? '');
    });
    token = await stack.token('fidelity');
    client = await ChatClient.connect(stack.apis[0]!.url!, token);
    db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
  }, 120_000);

  afterEach(() => stack.emulator.clearFaults());

  afterAll(async () => {
    client?.close();
    await db?.end();
    await stack?.stop();
  }, 60_000);

  const sendAndWait = async (payload: object) => {
    const ack = await client.send(payload);
    if (!ack.ok) throw new Error(`${ack.error.code}: ${ack.error.message}`);
    await client.waitForEnd(ack.jobId);
    return ack;
  };

  it('a Sonnet 4.5 conversation with temperature and topP stored from before answers normally', async () => {
    const conversation = (await api().post('/v1/conversations').set(auth()).send({ modelId: sonnet45, params: { temperature: 0.4 } }).expect(201)).body;
    // Stored before the rules existed: both set (the API no longer accepts that).
    await db.query(`update conversations set params = $1 where id = $2`, [JSON.stringify({ temperature: 0.4, topP: 0.9 }), conversation.id]);
    const text = 'Hello from an old conversation';
    const ack = await sendAndWait({ conversationId: conversation.id, content: [{ type: 'text', text }] });
    expect(client.errors.get(ack.jobId)).toBeUndefined();
    expect(client.done.get(ack.jobId)!.text).toBe(answerFor(text).text);
    expect(rejected).toEqual([]);

    // The same params through REST are refused, naming the field.
    const res = await api().patch(`/v1/conversations/${conversation.id}`).set(auth()).send({ params: { temperature: 0.4, topP: 0.9 } }).expect(400);
    expect(res.body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'params.topP' }] });
  });

  it('Opus 4.7: refuses sampling parameters, thinks adaptively, and answers a conversation moved from a model with temperature', async () => {
    const refused = await api().post('/v1/conversations').set(auth()).send({ modelId: opus47, params: { temperature: 0.4 } }).expect(400);
    expect(refused.body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'params.temperature' }] });
    // Moved from Sonnet 4.5 with temperature stored, thinking on: the worker sends adaptive thinking and no temperature.
    const conversation = (await api().post('/v1/conversations').set(auth()).send({ modelId: sonnet45, params: { temperature: 0.4 } }).expect(201)).body;
    await db.query(`update conversations set model_id = $1, params = $2 where id = $3`, [opus47, JSON.stringify({ temperature: 0.4, thinkingBudget: 2048 }), conversation.id]);
    const ack = await sendAndWait({ conversationId: conversation.id, content: [{ type: 'text', text: 'Think adaptively [[emulator:thinking=20]]' }] });
    expect(client.errors.get(ack.jobId)).toBeUndefined();
    expect(client.done.get(ack.jobId)!.reasoning).toBeTruthy();
    expect(rejected).toEqual([]);
  });

  it('sends the effort the conversation asks for; one stored for another model steps down to a level the model takes', async () => {
    const efforts: (string | undefined)[] = [];
    // Chat answers stream; title calls (of other tests' conversations too) do not.
    const record = (r: { operation: string; effort?: string }) => r.operation === 'converse-stream' && efforts.push(r.effort);
    stack.emulator.on('request', record);
    try {
      const conversation = (await api().post('/v1/conversations').set(auth()).send({ modelId: opus47, params: { effort: 'xhigh', thinkingBudget: 2048 } }).expect(201)).body;
      const first = await sendAndWait({ conversationId: conversation.id, content: [{ type: 'text', text: 'Think hard [[emulator:thinking=10]]' }] });
      expect(client.done.get(first.jobId)!.reasoning).toBeTruthy();
      // Moved to Opus 4.5 (low to high) with xhigh stored: the worker sends high.
      const opus45 = 'us.anthropic.claude-opus-4-5-20251101-v1:0';
      await db.query(`update conversations set model_id = $1 where id = $2`, [opus45, conversation.id]);
      const second = await sendAndWait({ conversationId: conversation.id, content: [{ type: 'text', text: 'And on Opus 4.5?' }] });
      expect(client.errors.get(second.jobId)).toBeUndefined();
    } finally {
      stack.emulator.off('request', record);
    }
    expect(efforts).toEqual(['xhigh', 'high']);
    expect(rejected).toEqual([]);
  });

  it('streams thinking as reasoning deltas in the seq order, before the text, and stores it with the message', async () => {
    const conversation = (await api().post('/v1/conversations').set(auth()).send({ modelId: sonnet45, params: { thinkingBudget: 1024 } }).expect(201)).body;
    const ack = await sendAndWait({ conversationId: conversation.id, content: [{ type: 'text', text: 'Think first [[emulator:thinking=40]]' }] });
    const deltas = client.deltas.get(ack.jobId)!;
    expect(deltas.map((d) => d.seq)).toEqual(range(1, deltas.length));
    const firstText = deltas.findIndex((d) => d.text !== '');
    expect(deltas.slice(0, firstText).every((d) => d.reasoning)).toBe(true);
    expect(deltas.slice(firstText + 1).some((d) => d.reasoning)).toBe(false);
    const reasoning = deltas.map((d) => d.reasoning ?? '').join('');
    const done = client.done.get(ack.jobId)!;
    expect(reasoning.length).toBeGreaterThan(0);
    expect(done.reasoning).toBe(reasoning);
    expect(done.text).toBe(client.text(ack.jobId));
    // Thinking is output: more tokens than the text alone.
    expect(done.usage.outputTokens).toBeGreaterThan(answerFor('Think first [[emulator:thinking=40]]').outputTokens);
    const stored = (await api().get(`/v1/conversations/${conversation.id}`).set(auth()).expect(200)).body as ConversationWithMessages;
    expect(stored.messages[1]).toMatchObject({ role: 'assistant', reasoning, content: [{ type: 'text', text: done.text }] });

    // A second turn of a thinking conversation: earlier answers go back as text only, Bedrock accepts it.
    const next = await sendAndWait({ conversationId: conversation.id, content: [{ type: 'text', text: 'And then?' }] });
    expect(client.done.get(next.jobId)?.reasoning).toBeTruthy();
    expect(rejected).toEqual([]);
  });

  it('a worker crash during thinking continues cleanly: no repeated thinking, the answer completes', async () => {
    const conversation = (await api().post('/v1/conversations').set(auth()).send({ modelId: sonnet45, params: { thinkingBudget: 2048 } }).expect(201)).body;
    stack.emulator.injectFault({ type: 'streamError', afterTokens: 10, count: 1, exception: 'modelStreamErrorException' });
    const text = 'Think and fail [[emulator:thinking=30]]';
    const ack = await sendAndWait({ conversationId: conversation.id, content: [{ type: 'text', text }] });
    const done = client.done.get(ack.jobId)!;
    expect(client.statuses.get(ack.jobId)?.map((s) => s.state)).toContain('retrying');
    const seqs = client.seqs(ack.jobId);
    expect(seqs).toEqual(range(1, seqs.length));
    const reasoning = (client.deltas.get(ack.jobId) ?? []).map((d) => d.reasoning ?? '').join('');
    // What was shown of the thinking is kept (not repeated); the answer is the whole text.
    expect(done.reasoning).toBe(reasoning);
    expect(reasoning.length).toBeGreaterThan(0);
    expect(done.text).toBe(answerFor(text).text);
    expect(client.text(ack.jobId)).toBe(done.text);
    expect(rejected).toEqual([]);
  });

  it('Opus 4.7 takes no prefill: an answer cut off by a stream error continues in a user turn and completes', async () => {
    const conversation = (await api().post('/v1/conversations').set(auth()).send({ modelId: opus47 }).expect(201)).body;
    stack.emulator.injectFault({ type: 'streamError', afterTokens: 10, count: 1, exception: 'modelStreamErrorException' });
    const ack = await sendAndWait({ conversationId: conversation.id, content: [{ type: 'text', text: 'Explain queues [[emulator:tokens=40]]' }] });
    expect(client.errors.get(ack.jobId)).toBeUndefined();
    expect(client.statuses.get(ack.jobId)?.map((s) => s.state)).toContain('retrying');
    const done = client.done.get(ack.jobId)!;
    const seqs = client.seqs(ack.jobId);
    expect(seqs).toEqual(range(1, seqs.length));
    // What was shown stays, and the rest follows it (the emulator answers the request to go on).
    const shown = emulatorAnswer({ modelId: opus47, messages: [{ role: 'user', content: [{ text: 'Explain queues [[emulator:tokens=40]]' }] }], maxTokens: 4096 });
    expect(done.text.startsWith(shown.tokens.slice(0, 10).join('').trimEnd())).toBe(true);
    expect(done.text.length).toBeGreaterThan(shown.tokens.slice(0, 10).join('').length);
    expect(client.text(ack.jobId)).toBe(done.text);
    expect(rejected).toEqual([]);
  });

  it("Opus 5.5 writes a title too: room for its thinking on top of the title's few tokens, at low effort", async () => {
    const opus55 = 'us.anthropic.claude-opus-5-5';
    const efforts: (string | undefined)[] = [];
    const record = (r: { operation: string; modelId: string; effort?: string }) => r.operation === 'converse' && r.modelId === opus55 && efforts.push(r.effort);
    stack.emulator.on('request', record);
    const text = 'Which regions should run the nightly batch? [[emulator:tokens=30]]';
    const ack = await sendAndWait({ modelId: opus55, content: [{ type: 'text', text }] });
    const firstWords = (await api().get(`/v1/conversations/${ack.conversationId}`).set(auth()).expect(200)).body.title as string;
    let title = firstWords;
    for (let i = 0; i < 100 && title === firstWords; i++) {
      await new Promise((r) => setTimeout(r, 100));
      title = (await api().get(`/v1/conversations/${ack.conversationId}`).set(auth()).expect(200)).body.title as string;
    }
    stack.emulator.off('request', record);
    const stored = (await api().get(`/v1/conversations/${ack.conversationId}`).set(auth()).expect(200)).body as ConversationWithMessages;
    const answer = stored.messages.find((m) => m.role === 'assistant')!.content.map((b) => ('text' in b ? b.text : '')).join('');
    const req = titleRequest(text, answer);
    // The whole title, as the model would write it without thinking in the way.
    expect(title).toBe(cleanTitle(emulatorAnswer({ modelId: opus55, system: [{ text: req.system }], messages: [{ role: 'user', content: [{ text: req.prompt }] }], maxTokens: 4096 }).text));
    expect(efforts).toEqual(['low']);
    expect(rejected).toEqual([]);
  });

  it('Opus 5.5 thinks on every answer: the answer is whole, and its thinking is shown only when the conversation asks', async () => {
    const opus55 = 'us.anthropic.claude-opus-5-5';
    const text = 'Plan a migration [[emulator:thinking=25,tokens=40]]';
    // An answer limit of 50 tokens: the unasked thinking gets room of its own, so the 40-token answer is whole.
    const limited = (await api().post('/v1/conversations').set(auth()).send({ modelId: opus55, params: { maxTokens: 50 } }).expect(201)).body;
    const plain = await sendAndWait({ conversationId: limited.id, content: [{ type: 'text', text }] });
    const done = client.done.get(plain.jobId)!;
    expect(done.stopReason).toBe('end_turn');
    expect(done.text).toBe(emulatorAnswer({ modelId: opus55, messages: [{ role: 'user', content: [{ text }] }], maxTokens: 8192 }).text);
    expect(done.reasoning ?? '').toBe('');
    // Billed with its thinking: more output tokens than the answer's pieces.
    expect(done.usage.outputTokens).toBeGreaterThan(client.deltas.get(plain.jobId)!.length);
    const conversation = (await api().post('/v1/conversations').set(auth()).send({ modelId: opus55, params: { thinkingBudget: 4096 } }).expect(201)).body;
    const asked = await sendAndWait({ conversationId: conversation.id, content: [{ type: 'text', text }] });
    expect(client.done.get(asked.jobId)!.reasoning).toBeTruthy();
    expect(rejected).toEqual([]);
  });

  it('a second turn of a long conversation reads from the prompt cache and costs less than the first', async () => {
    const long = `${'Our queue design keeps every Bedrock call behind one line so the quota holds. '.repeat(120)}What matters most?`;
    const first = await sendAndWait({ modelId: sonnet45, content: [{ type: 'text', text: long }] });
    const firstDone = client.done.get(first.jobId)!;
    expect(firstDone.usage.cacheWriteTokens).toBeGreaterThan(1024);
    const second = await sendAndWait({ conversationId: first.conversationId, content: [{ type: 'text', text: 'Shorter please.' }] });
    const secondDone = client.done.get(second.jobId)!;
    expect(secondDone.usage.cacheReadTokens).toBe(firstDone.usage.cacheWriteTokens);
    expect(secondDone.cost!).toBeLessThan(firstDone.cost!);
    const stored = (await api().get(`/v1/conversations/${first.conversationId}`).set(auth()).expect(200)).body as ConversationWithMessages;
    expect(stored.messages[3]!.usage).toMatchObject({ cacheReadTokens: secondDone.usage.cacheReadTokens });
    process.stdout.write(`prompt cache: first turn $${firstDone.cost!.toFixed(6)} (write ${firstDone.usage.cacheWriteTokens}), second $${secondDone.cost!.toFixed(6)} (read ${secondDone.usage.cacheReadTokens})\n`);
  });
});
