import request from 'supertest';
import { type Stack, startStack } from '../support/stack.js';

/**
 * Issue 11, item 3, through the real API process: a NUL in one submission among concurrent ones
 * is refused at the edge (400) while the others are accepted (202), and no log line of the process
 * contains any submitted text.
 */
describe('security: one bad request fails only itself', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ apis: 1, workers: 0, env: { LOG_LEVEL: 'debug' } });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('ten users submit together with one NUL among them: ten 202s, one 400, no text in the logs', async () => {
    const api = stack.apis[0]!.url!;
    const tokens = await Promise.all(Array.from({ length: 11 }, (_, i) => stack.token(`tenant-${i}`, { scopes: ['jobs:write'] })));
    const texts = tokens.map((_, i) => (i === 5 ? `BadRowMarker \u0000 in the middle` : `PrivateDocumentMarker${i} quarterly numbers`));
    const results = await Promise.all(
      tokens.map((token, i) => request(api).post('/v1/jobs/summarize').set('authorization', `Bearer ${token}`).send({ text: texts[i], metadata: { note: `MetaMarker${i}` } })),
    );
    expect(results.map((r) => r.status)).toEqual(texts.map((_, i) => (i === 5 ? 400 : 202)));
    expect(results[5]!.body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'text' }] });
    await request(api).get('/v1/conversations?q=SearchMarker%20words&limit=5').set('authorization', `Bearer ${tokens[0]}`).expect(200);
    await new Promise((r) => setTimeout(r, 300)); // let the process flush its logs
    const logs = stack.apis[0]!.output.join('');
    expect(logs).toContain('request completed'); // the logs were captured
    expect(logs).toContain('/v1/conversations?q=');
    for (const marker of ['PrivateDocumentMarker', 'BadRowMarker', 'MetaMarker', 'quarterly numbers', 'SearchMarker']) expect(logs).not.toContain(marker);
  });
});
