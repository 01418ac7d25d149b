import { rmSync } from 'node:fs';
import request from 'supertest';
import { isRunning, type Stack, startStack } from '../support/stack.js';
import { makePdf, waitForJob, writeModelsFile } from '../jobs/jobs-support.js';
import { docxBomb, docxOf, withDeclaredSizes } from './security-support.js';

/**
 * Issue 11, item 2: hostile documents fail their own job (document_too_large / invalid_document,
 * not retried) and the worker process stays up. The inflated-bytes cap is set high here so the
 * 50 MB bomb gets past the API and the worker's zip check: it is the extraction thread's own heap
 * limit that must stop it, as it would for a zip that hides its sizes.
 */
describe('security: documents cannot take a worker down', () => {
  let stack: Stack;
  let api: string;
  let token: string;
  let modelsFile: string;
  const submit = (documents: { name: string; format: string; data: Buffer }[]) =>
    request(api)
      .post('/v1/jobs/summarize')
      .set('authorization', `Bearer ${token}`)
      .send({ documents: documents.map((d) => ({ ...d, data: d.data.toString('base64') })) });

  beforeAll(async () => {
    modelsFile = writeModelsFile();
    stack = await startStack({
      apis: 1,
      workers: 1,
      emulator: { tps: null, ttfbMs: 0 },
      env: {
        MODELS_FILE: modelsFile,
        DOC_MAX_INFLATED_BYTES: String(200 * 1024 * 1024),
        DOC_EXTRACT_MEMORY_MB: '48',
        DOC_MAX_PAGES: '5',
        DOC_MAX_CHARS: '100000',
      },
    });
    api = stack.apis[0]!.url!;
    token = await stack.token('doc-client', { scopes: ['jobs:read', 'jobs:write'] });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(modelsFile, { force: true });
  }, 60_000);

  it('a 200 KB docx inflating to 50 MB of XML ends document_too_large; the worker lives on and takes the next job', async () => {
    const bomb = docxBomb();
    expect(bomb.length).toBeLessThan(300 * 1024);
    const res = await submit([{ name: 'bomb.docx', format: 'docx', data: bomb }]).expect(202);
    const job = await waitForJob(api, token, res.body.id, { timeoutMs: 45_000 });
    expect(job).toMatchObject({ status: 'failed', error: { code: 'document_too_large' } });
    expect(isRunning(stack.workers[0]!)).toBe(true);

    const next = await submit([{ name: 'fine.docx', format: 'docx', data: docxOf('A small memo about queues. [[emulator:tokens=5]]') }]).expect(202);
    expect(await waitForJob(api, token, next.body.id)).toMatchObject({ status: 'completed' });
    expect(isRunning(stack.workers[0]!)).toBe(true);
  });

  it('answers 413 document_too_large at submit when the zip declares more than DOC_MAX_INFLATED_BYTES', async () => {
    const declaresHuge = withDeclaredSizes(docxOf('tiny'), 300 * 1024 * 1024);
    const res = await submit([{ name: 'huge.docx', format: 'docx', data: declaresHuge }]).expect(413);
    expect(res.body.error).toMatchObject({ code: 'document_too_large', details: [{ path: 'documents.0.data' }] });
  });

  it('fails a PDF over DOC_MAX_PAGES as document_too_large and an unreadable docx as invalid_document, without retries', async () => {
    const pdf = await submit([{ name: 'long.pdf', format: 'pdf', data: await makePdf(8) }]).expect(202);
    const broken = await submit([{ name: 'broken.docx', format: 'docx', data: Buffer.from('this is not a zip at all') }]).expect(202);
    const lying = await submit([{ name: 'lying.docx', format: 'docx', data: withDeclaredSizes(docxBomb(5 * 1024 * 1024), 1000) }]).expect(202);
    expect(await waitForJob(api, token, pdf.body.id)).toMatchObject({ status: 'failed', error: { code: 'document_too_large' } });
    expect(await waitForJob(api, token, broken.body.id)).toMatchObject({ status: 'failed', error: { code: 'invalid_document' } });
    expect((await waitForJob(api, token, lying.body.id)).error?.code).toMatch(/^(invalid_document|document_too_large)$/);
    // One attempt each: a document that failed once fails again, so it is not retried.
    const attempts = stack.workers[0]!.output.join('').split('\n').filter((l) => l.includes('document refused')).length;
    expect(attempts).toBe(4);
    expect(isRunning(stack.workers[0]!)).toBe(true);
  });
});
