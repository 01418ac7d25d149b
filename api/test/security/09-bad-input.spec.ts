import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { errorBodySchema } from '@switchboard/contracts';
import { startTestApi, type TestApi } from '../support/test-api.js';

/** Issue 11, item 9: every input once seen as a 500 gets a 4xx with the field named. */
describe('security: bad input is a 4xx, never a 500', () => {
  let api: TestApi;
  let token: string;
  let socket: Socket;
  const auth = () => ({ authorization: `Bearer ${token}` });
  const nested = (depth: number) => {
    let value: unknown = 'bottom';
    for (let i = 0; i < depth; i++) value = { a: value };
    return value;
  };
  /** JSON text nested `depth` deep under `key` (JSON.stringify itself would overflow the stack). */
  const deepJson = (fields: string, key: string, depth: number) => `{${fields}"${key}":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
  const postRaw = (path: string, body: string) => request(api.url).post(path).set(auth()).set('content-type', 'application/json').send(body);
  const cursorAt = (date: string) => Buffer.from(`${date}|${randomUUID()}`).toString('base64url');

  beforeAll(async () => {
    api = await startTestApi();
    token = await api.token('mallory', { scopes: ['jobs:read', 'jobs:write'] });
    socket = io(`${api.url}/chat`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('connect_error', reject));
  }, 60_000);
  afterAll(async () => {
    socket?.close();
    await api?.stop();
  });

  const corpus: [string, () => request.Test, string][] = [
    ['conversation title with NUL', () => request(api.url).post('/v1/conversations').set(auth()).send({ title: 'a\u0000b' }), 'title'],
    ['conversation system prompt with a lone surrogate', () => request(api.url).post('/v1/conversations').set(auth()).send({ systemPrompt: 'x\uDC00y' }), 'systemPrompt'],
    ['prompt tag with a lone surrogate', () => request(api.url).post('/v1/prompts').set(auth()).send({ title: 'T', systemPrompt: 'S', tags: ['ok', '\uD800'] }), 'tags.1'],
    ['?q=%00', () => request(api.url).get('/v1/conversations?q=%00').set(auth()), 'q'],
    ['a conversations cursor dated year 275760', () => request(api.url).get(`/v1/conversations?cursor=${cursorAt('+275760-09-13T00:00:00.000Z')}`).set(auth()), 'cursor'],
    ['a jobs cursor dated year 275760', () => request(api.url).get(`/v1/jobs?cursor=${cursorAt('+275760-09-13T00:00:00.000Z')}`).set(auth()), 'cursor'],
    ['job metadata nested 100,000 deep', () => postRaw('/v1/jobs/summarize', deepJson('"text":"hi",', 'metadata', 100_000)), 'metadata'],
    ['job metadata nested 12 deep', () => request(api.url).post('/v1/jobs/summarize').set(auth()).send({ text: 'hi', metadata: nested(12) as object }), 'metadata'],
    ['job metadata with a NUL key', () => request(api.url).post('/v1/jobs/summarize').set(auth()).send({ text: 'hi', metadata: { 'k\u0000': 1 } }), 'metadata'],
    ['job text with NUL', () => request(api.url).post('/v1/jobs/summarize').set(auth()).send({ text: 'one\u0000two' }), 'text'],
    ['job instructions with a lone surrogate', () => request(api.url).post('/v1/jobs/summarize').set(auth()).send({ text: 'hi', instructions: '\uD83D' }), 'instructions'],
    ['document name with NUL', () => request(api.url).post('/v1/jobs/summarize').set(auth()).send({ documents: [{ name: 'a\u0000.txt', format: 'txt', data: 'aGk=' }] }), 'documents.0.name'],
    ['a body nested 100,000 deep', () => postRaw('/v1/conversations', deepJson('', 'params', 100_000)), 'params'],
  ];

  it.each(corpus)('%s → 400 validation_failed naming the field', async (_what, send, field) => {
    const res = await send();
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 400, code: 'validation_failed' });
    expect(errorBodySchema.parse(res.body).requestId).toBeTruthy();
    const paths = (res.body.error.details as { path: string }[]).map((d) => d.path);
    expect(paths.some((p) => p === field || p.startsWith(`${field}.`))).toBe(true);
  });

  it('a PATCH with a NUL title and a chat:send with NUL or lone surrogates get validation_failed too', async () => {
    const created = await request(api.url).post('/v1/conversations').set(auth()).send({ title: 'fine' }).expect(201);
    const patch = await request(api.url).patch(`/v1/conversations/${created.body.id}`).set(auth()).send({ title: '\u0000' });
    expect({ status: patch.status, code: patch.body.error?.code, path: patch.body.error?.details?.[0]?.path }).toEqual({ status: 400, code: 'validation_failed', path: 'title' });
    for (const text of ['nul \u0000 here', 'lone \uD800 surrogate']) {
      const ack = await socket.timeout(10_000).emitWithAck('chat:send', { content: [{ type: 'text', text }] });
      expect(ack).toMatchObject({ ok: false, error: { code: 'validation_failed', details: [{ path: 'content.0.text' }] } });
    }
    const deep = await socket.timeout(10_000).emitWithAck('chat:send', { content: [{ type: 'text', text: 'hi' }], params: nested(40) });
    expect(deep).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
  });

  it('still serves the same user afterwards', async () => {
    await request(api.url).get('/v1/conversations?q=fine').set(auth()).expect(200);
  });
});
