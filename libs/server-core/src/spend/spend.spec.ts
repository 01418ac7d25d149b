import { sql } from 'drizzle-orm';
import { createTestDatabase } from '@switchboard/testing';
import { builtInCatalog } from '../config/catalog.js';
import { type Database, openDatabase } from '../db/database.js';
import { subjectsOf, SpendRepository, worstCaseCostUsd } from './spend.js';

describe('usage ledger and audit log on real PostgreSQL', () => {
  let drop: () => Promise<void>;
  let database: Database;

  beforeAll(async () => {
    const created = await createTestDatabase();
    drop = created.drop;
    database = await openDatabase({ databaseUrl: created.url, dataDir: '/nonexistent', poolSize: 2, migrate: true });
  });
  afterAll(async () => {
    await database?.close();
    await drop?.();
  });

  it('writes one row per call however often the write is repeated', async () => {
    const ledger = new SpendRepository(database.db);
    const entry = {
      purpose: 'chat' as const,
      payer: { principal: 'sub-1', kind: 'person' as const, groups: ['team'] },
      model: builtInCatalog[0]!,
      usage: { inputTokens: 1000, outputTokens: 100, cacheReadTokens: 5 },
      costUsd: 0.0045,
    };
    await Promise.all([ledger.record({ ...entry, reservationId: 'job-1:1' }), ledger.record({ ...entry, reservationId: 'job-1:1' })]);
    await ledger.record({ ...entry, reservationId: 'job-1:1' });
    await ledger.record({ ...entry, purpose: 'compress', reservationId: 'job-1:1' }); // another call under the same reservation
    const { rows } = await database.db.execute<{ call_key: string; groups: string[]; cache_read_tokens: string }>(
      sql`select call_key, groups, cache_read_tokens from usage_ledger order by call_key`,
    );
    expect(rows.map((r) => r.call_key)).toEqual(['job-1:1/chat', 'job-1:1/compress']);
    expect(rows[0]).toMatchObject({ groups: ['team'] });
    expect(Number(rows[0]!.cache_read_tokens)).toBe(5);
  });

  it('writes ledger rows and another write in one statement: both or neither, with the other write’s row count', async () => {
    const ledger = new SpendRepository(database.db);
    const entry = {
      purpose: 'title' as const,
      payer: { principal: 'sub-2', kind: 'person' as const, groups: [] },
      model: builtInCatalog[0]!,
      usage: { inputTokens: 10, outputTokens: 5 },
      costUsd: 0.0001,
    };
    const keys = async () =>
      (await database.db.execute<{ call_key: string }>(sql`select call_key from usage_ledger where principal = 'sub-2' order by call_key`)).rows.map((r) => r.call_key);
    expect(await ledger.recordWith(ledger.ledgerWrite([{ ...entry, reservationId: 'r1' }]), sql`select 1 as one union all select 2`)).toBe(2);
    expect(await ledger.recordWith(ledger.ledgerWrite([{ ...entry, reservationId: 'r1' }, { ...entry, purpose: 'chat', reservationId: 'r1' }]), sql`select 1 where false`)).toBe(0);
    expect(await keys()).toEqual(['r1/chat', 'r1/title']);
    // The other write fails: no ledger row either.
    await expect(ledger.recordWith(ledger.ledgerWrite([{ ...entry, reservationId: 'r2' }]), sql`select 1 where 1 / 0 = 1`)).rejects.toThrow();
    expect(await keys()).toEqual(['r1/chat', 'r1/title']);
  });

  it('keeps the audit log append-only', async () => {
    await new SpendRepository(database.db).audit({ actor: 'sub-1', action: 'call.refused', details: { code: 'budget_exceeded' } });
    // Drizzle wraps the driver's error; Postgres' own message is the cause.
    const refusal = (query: Promise<unknown>) => query.then(() => 'allowed', (err: Error & { cause?: Error }) => (err.cause ?? err).message);
    expect(await refusal(database.db.execute(sql`update audit_log set actor = 'someone else'`))).toMatch(/append-only/);
    expect(await refusal(database.db.execute(sql`delete from audit_log`))).toMatch(/append-only/);
  });

  it('prices the worst case at the highest input price and names the subjects', () => {
    const model = { ...builtInCatalog[0]!, price: { inputPer1k: 1, outputPer1k: 2, cacheReadPer1k: 0.1, cacheWritePer1k: 1.25 } };
    expect(worstCaseCostUsd(model, 1000, 500)).toBeCloseTo(1.25 + 1, 9);
    expect(subjectsOf({ principal: 'c1', kind: 'client', groups: [] })).toEqual(['client:c1']);
    expect(subjectsOf({ principal: 'u1', kind: 'person', groups: ['a', 'b'] })).toEqual(['user:u1', 'group:a', 'group:b']);
  });
});
