import { randomUUID } from 'node:crypto';
import { safeErrorSerializer } from '@switchboard/server-core';
import { JobIntake } from '../../src/jobs/job-intake.js';
import { JobsRepository, type NewSummarizeJob } from '../../src/jobs/jobs.repository.js';
import { startTestApi, type TestApi } from '../support/test-api.js';

/**
 * Issue 11, item 3, below the edge: a row Postgres refuses (here a NUL, which the contract now
 * stops earlier) fails only its own submission, and the logged error carries none of the rows.
 */
describe('security: one bad row fails only itself', () => {
  let api: TestApi;
  const job = (owner: string, text: string): NewSummarizeJob => ({
    id: randomUUID(),
    owner,
    modelId: 'test.model',
    input: { text },
    idempotencyKey: undefined,
    callbackUrl: undefined,
    requestId: randomUUID(),
  });

  beforeAll(async () => {
    api = await startTestApi();
  }, 60_000);
  afterAll(async () => {
    await api?.stop();
  });

  it('a batch with a row Postgres refuses stores the others; only the bad one fails, as validation_failed', async () => {
    const intake = api.app.get(JobIntake);
    const good = Array.from({ length: 10 }, (_, i) => job(`user-${i}`, `Confidential memo number ${i}`));
    const bad = job('mallory', 'poison \u0000 byte');
    // Same turn of the event loop: one batch, one statement.
    const results = await Promise.allSettled([...good.slice(0, 5), bad, ...good.slice(5)].map((j) => intake.accept(j)));
    const byId = new Map([...good.slice(0, 5), bad, ...good.slice(5)].map((j, i) => [j.id, results[i]!]));
    for (const g of good) expect(byId.get(g.id)).toMatchObject({ status: 'fulfilled', value: { id: g.id, status: 'queued' } });
    expect(byId.get(bad.id)).toMatchObject({ status: 'rejected', reason: { code: 'validation_failed' } });
    const repository = api.app.get(JobsRepository);
    for (const g of good) expect(await repository.find(g.owner, g.id)).toMatchObject({ id: g.id });
  });

  it('the error a refused statement raises is logged without its parameters', async () => {
    const repository = api.app.get(JobsRepository);
    const err = await repository.insertMany([job('u', 'Top secret board minutes'), job('v', 'nul \u0000 here')]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    // What a default serializer would print includes other users' documents…
    expect(String((err as Error).message)).toContain('Top secret board minutes');
    // …what ours prints does not.
    const logged = JSON.stringify(safeErrorSerializer(err));
    expect(logged).not.toContain('Top secret');
    expect(logged).not.toContain('nul ');
    expect(logged).toContain('Failed query');
  });
});
