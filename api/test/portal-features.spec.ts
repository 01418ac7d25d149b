import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { type ChatSendAck, type ConversationWithMessages, errorBodySchema, type Prompt } from '@switchboard/contracts';
import { startTestApi, type TestApi } from './support/test-api.js';

/** Prompts, model-parameter limits, search and the branch shape of conversations (no worker needed). */
describe('REST: prompts, params, search, branches', () => {
  let api: TestApi;
  let token: string;
  let otherToken: string;
  const sockets: Socket[] = [];
  const auth = (t = token) => ({ authorization: `Bearer ${t}` });
  const expectError = (body: unknown, code: string) => {
    expect(errorBodySchema.parse(body).error.code).toBe(code);
    expect((body as { requestId: string }).requestId).toBeTruthy();
  };
  const connect = async (t = token) => {
    const socket = io(`${api.url}/chat`, { auth: { token: t }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return socket;
  };
  const send = async (socket: Socket, payload: object) => {
    const ack = (await socket.timeout(10_000).emitWithAck('chat:send', payload)) as ChatSendAck;
    if (!ack.ok) throw new Error(`${ack.error.code}: ${ack.error.message}`);
    return ack;
  };

  beforeAll(async () => {
    api = await startTestApi();
    token = await api.token('priya');
    otherToken = await api.token('oscar');
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    // Let the server finish its disconnect handlers (they use Redis) before the API closes.
    await new Promise((r) => setTimeout(r, 300));
    await api?.stop();
  });

  it('documents the new endpoints and fields in OpenAPI', async () => {
    const doc = (await request(api.url).get('/docs/openapi.json').expect(200)).body;
    expect(Object.keys(doc.paths['/v1/prompts'])).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/v1/prompts/{id}'])).toEqual(expect.arrayContaining(['patch', 'delete']));
    expect(doc.components.schemas.Prompt.properties.owner.enum).toEqual(['system', 'me']);
    expect(doc.components.schemas.Message.properties).toHaveProperty('parentId');
    expect(doc.components.schemas.ConversationUpdate.properties).toHaveProperty('activeLeafId');
    expect(JSON.stringify(doc.components.schemas.Conversation)).toContain('compressThreshold');
  });

  describe('prompts', () => {
    it('serves at least 12 presets in English and Simplified Chinese, by query or Accept-Language', async () => {
      const en = (await request(api.url).get('/v1/prompts').set(auth()).expect(200)).body as Prompt[];
      const zh = (await request(api.url).get('/v1/prompts?locale=zh-CN').set(auth()).expect(200)).body as Prompt[];
      const byHeader = (await request(api.url).get('/v1/prompts').set(auth()).set('accept-language', 'zh-CN,zh;q=0.9,en;q=0.8').expect(200))
        .body as Prompt[];
      expect(en.length).toBeGreaterThanOrEqual(12);
      expect(zh.map((p) => p.id)).toEqual(en.map((p) => p.id));
      expect(byHeader).toEqual(zh);
      for (const p of en) expect(p).toMatchObject({ owner: 'system', locale: 'en', title: expect.any(String), systemPrompt: expect.any(String), tags: expect.any(Array) });
      for (const p of zh) expect(p.systemPrompt).toMatch(/[\u4e00-\u9fff]/);
      const titles = en.map((p) => p.title);
      expect(titles).toEqual(expect.arrayContaining(['Translator', 'Code reviewer', 'SQL helper', 'Regex helper', 'Data analyst', 'Meeting notes']));
      expect(zh.find((p) => p.id === 'preset:translator')!.title).toBe('翻译助手');
      expectError((await request(api.url).get('/v1/prompts?locale=fr').set(auth()).expect(400)).body, 'validation_failed');
    });

    it("saves, edits and deletes one's own prompts; others never see them; presets are read-only", async () => {
      const created = await request(api.url)
        .post('/v1/prompts')
        .set(auth())
        .send({ title: 'Release notes', systemPrompt: 'Write release notes from commits.', tags: ['work'] })
        .expect(201);
      const own = created.body as Prompt;
      expect(own).toMatchObject({ title: 'Release notes', owner: 'me', tags: ['work'], locale: null });

      const listed = (await request(api.url).get('/v1/prompts?locale=zh-CN').set(auth()).expect(200)).body as Prompt[];
      expect(listed.at(-1)).toEqual(own);

      const patched = await request(api.url).patch(`/v1/prompts/${own.id}`).set(auth()).send({ title: 'Release notes v2', locale: 'en' }).expect(200);
      expect(patched.body).toMatchObject({ id: own.id, title: 'Release notes v2', locale: 'en', systemPrompt: own.systemPrompt });

      const theirs = (await request(api.url).get('/v1/prompts').set(auth(otherToken)).expect(200)).body as Prompt[];
      expect(theirs.some((p) => p.owner === 'me')).toBe(false);
      expectError((await request(api.url).patch(`/v1/prompts/${own.id}`).set(auth(otherToken)).send({ title: 'x' }).expect(404)).body, 'not_found');
      expectError((await request(api.url).delete(`/v1/prompts/${own.id}`).set(auth(otherToken)).expect(404)).body, 'not_found');

      expectError((await request(api.url).patch('/v1/prompts/preset:translator').set(auth()).send({ title: 'x' }).expect(403)).body, 'forbidden');
      expectError((await request(api.url).delete('/v1/prompts/preset:translator').set(auth()).expect(403)).body, 'forbidden');
      expectError((await request(api.url).post('/v1/prompts').set(auth()).send({ title: '', systemPrompt: 'x' }).expect(400)).body, 'validation_failed');
      expectError((await request(api.url).post('/v1/prompts').set(auth()).send({ title: 'x' }).expect(400)).body, 'validation_failed');
      expectError((await request(api.url).patch('/v1/prompts/not-a-uuid').set(auth()).send({ title: 'x' }).expect(404)).body, 'not_found');

      await request(api.url).delete(`/v1/prompts/${own.id}`).set(auth()).expect(204);
      expectError((await request(api.url).delete(`/v1/prompts/${own.id}`).set(auth()).expect(404)).body, 'not_found');
      const after = (await request(api.url).get('/v1/prompts').set(auth()).expect(200)).body as Prompt[];
      expect(after.some((p) => p.owner === 'me')).toBe(false);
    });
  });

  it('checks model parameters against the model: maxTokens, historyMessages, compressThreshold', async () => {
    const ok = await request(api.url)
      .post('/v1/conversations')
      .set(auth())
      .send({ modelId: 'us.anthropic.claude-haiku-4-5-20251001-v1:0', params: { maxTokens: 8000, historyMessages: 10, compressThreshold: 4000 } })
      .expect(201);
    expect(ok.body.params).toEqual({ maxTokens: 8000, historyMessages: 10, compressThreshold: 4000 });
    const off = await request(api.url).patch(`/v1/conversations/${ok.body.id}`).set(auth()).send({ params: { compressThreshold: null } }).expect(200);
    expect(off.body.params).toEqual({ compressThreshold: null });
    const bad: [object, string][] = [
      [{ modelId: 'anthropic.claude-3-haiku-20240307-v1:0', params: { maxTokens: 8000 } }, 'params.maxTokens'], // 4096 for Claude 3
      [{ params: { historyMessages: 0 } }, 'params.historyMessages'],
      [{ params: { historyMessages: 201 } }, 'params.historyMessages'],
      [{ params: { historyMessages: 2.5 } }, 'params.historyMessages'],
      [{ params: { compressThreshold: 200_000 } }, 'params.compressThreshold'], // context window 200k
      [{ params: { compressThreshold: 100 } }, 'params.compressThreshold'],
      [{ params: { compressThreshold: -1 } }, 'params.compressThreshold'],
    ];
    for (const [body, path] of bad) {
      const res = await request(api.url).post('/v1/conversations').set(auth()).send(body);
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code: 'validation_failed' });
      expectError(res.body, 'validation_failed');
      expect(JSON.stringify(res.body.error.details)).toContain(path.split('.').at(-1));
    }
    const patchBad = await request(api.url).patch(`/v1/conversations/${ok.body.id}`).set(auth()).send({ params: { compressThreshold: 250_000 } }).expect(400);
    expectError(patchBad.body, 'validation_failed');
    // The same limits hold for chat:send parameters.
    const socket = await connect();
    const ack = (await socket.timeout(10_000).emitWithAck('chat:send', {
      content: [{ type: 'text', text: 'hi' }],
      params: { compressThreshold: 300_000 },
    })) as ChatSendAck;
    expect(ack).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
  });

  it("refuses params that break the model's catalog rules with 400 naming the field (REST and chat:send)", async () => {
    const sonnet45 = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    const haiku3 = 'anthropic.claude-3-haiku-20240307-v1:0';
    const opus45 = 'us.anthropic.claude-opus-4-5-20251101-v1:0';
    const opus47 = 'us.anthropic.claude-opus-4-7';
    const bad: [object, string][] = [
      [{ modelId: sonnet45, params: { temperature: 0.5, topP: 0.9 } }, 'params.topP'], // exclusive sampling
      [{ modelId: sonnet45, params: { topK: 501 } }, 'params.topK'],
      [{ modelId: haiku3, params: { thinkingBudget: 2048 } }, 'params.thinkingBudget'], // no thinking on Claude 3
      [{ modelId: sonnet45, params: { thinkingBudget: 512 } }, 'params.thinkingBudget'], // below the minimum
      [{ modelId: sonnet45, params: { thinkingBudget: 64_000 } }, 'params.thinkingBudget'], // not below maxOutputTokens
      [{ modelId: sonnet45, params: { thinkingBudget: 2048, temperature: 0.5 } }, 'params.temperature'],
      [{ modelId: sonnet45, params: { thinkingBudget: 2048, topK: 10 } }, 'params.topK'],
      [{ modelId: sonnet45, params: { thinkingBudget: 2048, topP: 0.5 } }, 'params.topP'],
      [{ modelId: sonnet45, params: { effort: 'low' } }, 'params.effort'], // no effort on Sonnet 4.5
      [{ modelId: opus45, params: { effort: 'max' } }, 'params.effort'], // low to high on Opus 4.5
      [{ modelId: opus47, params: { effort: 'extreme' } }, 'params.effort'], // not a level
    ];
    for (const [body, path] of bad) {
      const res = await request(api.url).post('/v1/conversations').set(auth()).send(body);
      expect({ status: res.status, code: res.body.error?.code, path: res.body.error?.details?.[0]?.path }).toEqual({ status: 400, code: 'validation_failed', path });
    }
    // Claude 3 takes both; a Sonnet 4.5 conversation takes one, or thinking with topP from 0.95.
    await request(api.url).post('/v1/conversations').set(auth()).send({ modelId: haiku3, params: { temperature: 0.5, topP: 0.9, topK: 40 } }).expect(201);
    await request(api.url).post('/v1/conversations').set(auth()).send({ modelId: opus47, params: { effort: 'xhigh', thinkingBudget: 4096 } }).expect(201);
    const conv = await request(api.url).post('/v1/conversations').set(auth()).send({ modelId: sonnet45, params: { topP: 0.9 } }).expect(201);
    await request(api.url).patch(`/v1/conversations/${conv.body.id}`).set(auth()).send({ params: { thinkingBudget: 2048, topP: 0.96 } }).expect(200);
    const patchBad = await request(api.url).patch(`/v1/conversations/${conv.body.id}`).set(auth()).send({ params: { temperature: 0.2, topP: 0.9 } }).expect(400);
    expect(patchBad.body.error.details[0].path).toBe('params.topP');
    const socket = await connect();
    const ack = (await socket.timeout(10_000).emitWithAck('chat:send', {
      conversationId: conv.body.id,
      content: [{ type: 'text', text: 'hi' }],
      params: { temperature: 0.5, topP: 0.9 },
    })) as ChatSendAck;
    expect(ack).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    const effortAck = (await socket.timeout(10_000).emitWithAck('chat:send', { conversationId: conv.body.id, content: [{ type: 'text', text: 'hi' }], params: { effort: 'low' } })) as ChatSendAck;
    expect(effortAck).toMatchObject({ ok: false, error: { code: 'validation_failed', details: [{ path: 'params.effort' }] } });
    // Bedrock refuses blank text blocks: refused here first.
    const blank = (await socket.timeout(10_000).emitWithAck('chat:send', { content: [{ type: 'text', text: ' \n ' }] })) as ChatSendAck;
    expect(blank).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    // The models list tells the portal the rules.
    const models = (await request(api.url).get('/v1/models').set(auth()).expect(200)).body as { id: string; rules: { exclusiveSampling: boolean; thinking: unknown } }[];
    expect(models.find((m) => m.id === sonnet45)!.rules).toMatchObject({ exclusiveSampling: true, thinking: { minBudget: 1024 } });
    expect(models.find((m) => m.id === haiku3)!.rules).toMatchObject({ exclusiveSampling: false, thinking: false, effort: false });
    expect(models.find((m) => m.id === opus45)!.rules).toMatchObject({ effort: { levels: ['low', 'medium', 'high'] } });
  });

  it('searches titles and message text (English words, Chinese text), newest first with a snippet, only in own conversations', async () => {
    const socket = await connect();
    const other = await connect(otherToken);
    const make = async (s: Socket, text: string, title?: string) => {
      let conversationId: string | undefined;
      if (title) conversationId = (await request(api.url).post('/v1/conversations').set(auth(s === other ? otherToken : token)).send({ title }).expect(201)).body.id;
      return (await send(s, { conversationId, content: [{ type: 'text', text }] })).conversationId;
    };
    const kafka = await make(socket, 'How do I size the partitions of a Kafka topic for ingestion?', 'Streaming question');
    const budget = await make(socket, '请帮我整理下季度的预算报告，重点是市场部门的开支。');
    const older = await make(socket, 'Unrelated: pasta recipes', 'Kafka retention settings');
    await make(other, 'My own Kafka question about partitions and 预算报告');
    await send(socket, { conversationId: older, content: [{ type: 'text', text: 'and sauces' }] }); // now the newest

    const search = async (q: string) =>
      (await request(api.url).get(`/v1/conversations?q=${encodeURIComponent(q)}`).set(auth()).expect(200)).body as {
        items: { id: string; snippet: string }[];
      };
    const en = await search('kafka');
    expect(en.items.map((c) => c.id)).toEqual([older, kafka]);
    expect(en.items[1]!.snippet).toContain('Kafka topic');
    expect(en.items[0]!.snippet).toContain('Kafka retention');
    expect((await search('partitions kafka')).items.map((c) => c.id)).toEqual([kafka]);
    expect((await search('"size the partitions"')).items.map((c) => c.id)).toEqual([kafka]);
    expect((await search('zookeeper')).items).toEqual([]);

    const zh = await search('预算报告');
    expect(zh.items.map((c) => c.id)).toEqual([budget]);
    expect(zh.items[0]!.snippet).toContain('预算报告');
    expect((await search('市场部门')).items.map((c) => c.id)).toEqual([budget]);

    // The other user's conversation matches the same words but never shows up; and vice versa.
    const theirs = (await request(api.url).get('/v1/conversations?q=kafka').set(auth(otherToken)).expect(200)).body;
    expect(theirs.items).toHaveLength(1);
    expect(theirs.items[0].id).not.toBe(kafka);
  });

  it('stores parentId on every message, branches on parentMessageId and regenerate, and switches the active leaf', async () => {
    const socket = await connect();
    const first = await send(socket, { content: [{ type: 'text', text: 'First question' }] });
    const conversationId = first.conversationId;
    const second = await send(socket, { conversationId, content: [{ type: 'text', text: 'Second question' }] });
    const get = async () =>
      (await request(api.url).get(`/v1/conversations/${conversationId}`).set(auth()).expect(200)).body as ConversationWithMessages;

    let conversation = await get();
    const [u1, a1, u2, a2] = conversation.messages;
    expect(conversation.messages.map((m) => [m.role, m.parentId])).toEqual([
      ['user', null],
      ['assistant', u1!.id],
      ['user', a1!.id],
      ['assistant', u2!.id],
    ]);
    expect(first.ok && first.assistantMessageId).toBe(a1!.id);
    expect(second.ok && second.assistantMessageId).toBe(a2!.id);
    expect(conversation.activeLeafId).toBe(a2!.id);
    expect(conversation.usage).toEqual({ inputTokens: 0, outputTokens: 0, cost: 0 });
    expect(conversation.summary).toBeNull();

    // Edit and resend the second question: a new branch after the first answer.
    const edited = await send(socket, { conversationId, parentMessageId: a1!.id, content: [{ type: 'text', text: 'Second question, edited' }] });
    // Regenerate the first answer: a sibling under the first question.
    const regen = (await socket.timeout(10_000).emitWithAck('chat:regenerate', { messageId: a1!.id, clientMessageId: 'regen-1' })) as ChatSendAck;
    if (!regen.ok) throw new Error(regen.error.message);
    expect(regen).toMatchObject({ conversationId, messageId: u1!.id });
    const regenAgain = await socket.timeout(10_000).emitWithAck('chat:regenerate', { messageId: a1!.id, clientMessageId: 'regen-1' });
    expect(regenAgain).toEqual(regen);

    conversation = await get();
    expect(conversation.messages).toHaveLength(7);
    const byId = new Map(conversation.messages.map((m) => [m.id, m]));
    expect(byId.get(edited.messageId)!.parentId).toBe(a1!.id);
    expect(byId.get(edited.assistantMessageId!)!.parentId).toBe(edited.messageId);
    expect(byId.get(regen.assistantMessageId!)).toMatchObject({ role: 'assistant', parentId: u1!.id });
    expect(conversation.activeLeafId).toBe(regen.assistantMessageId);

    // Switch back to the edited branch (through its user message: the leaf below it is found).
    const switched = await request(api.url).patch(`/v1/conversations/${conversationId}`).set(auth()).send({ activeLeafId: edited.messageId }).expect(200);
    expect(switched.body.id).toBe(conversationId);
    expect((await get()).activeLeafId).toBe(edited.assistantMessageId);
    // A send without parentMessageId continues the active branch.
    const next = await send(socket, { conversationId, content: [{ type: 'text', text: 'Third' }] });
    expect((await get()).messages.find((m) => m.id === next.messageId)!.parentId).toBe(edited.assistantMessageId);

    // Starting over from the very beginning.
    const root = await send(socket, { conversationId, parentMessageId: null, content: [{ type: 'text', text: 'Fresh start' }] });
    expect((await get()).messages.find((m) => m.id === root.messageId)!.parentId).toBeNull();

    // Errors: unknown parent, parent in another conversation, regenerating a user message, a stranger's message.
    const elsewhere = await send(socket, { content: [{ type: 'text', text: 'elsewhere' }] });
    const failures: [string, object, string][] = [
      ['chat:send', { conversationId, parentMessageId: '00000000-0000-4000-8000-000000000000', content: [{ type: 'text', text: 'x' }] }, 'not_found'],
      ['chat:send', { conversationId, parentMessageId: elsewhere.messageId, content: [{ type: 'text', text: 'x' }] }, 'not_found'],
      ['chat:send', { parentMessageId: a1!.id, content: [{ type: 'text', text: 'x' }] }, 'validation_failed'],
      ['chat:regenerate', { messageId: u1!.id }, 'bad_request'],
      ['chat:regenerate', { messageId: 'nope' }, 'not_found'],
      ['chat:regenerate', {}, 'validation_failed'],
    ];
    for (const [event, payload, code] of failures) {
      expect(await socket.timeout(10_000).emitWithAck(event, payload)).toMatchObject({ ok: false, error: { code } });
    }
    const stranger = await connect(otherToken);
    expect(await stranger.timeout(10_000).emitWithAck('chat:regenerate', { messageId: a1!.id })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const badLeaf = await request(api.url).patch(`/v1/conversations/${conversationId}`).set(auth()).send({ activeLeafId: elsewhere.messageId }).expect(400);
    expectError(badLeaf.body, 'validation_failed');
  });
});
