import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestRecord } from '@switchboard/bedrock-emulator';
import type { AdminUsage, AuditPage, Job, MeUsage, ModelEntryInput, PublicModel } from '@switchboard/contracts';
import { ChatClient } from '../support/chat-client.js';
import { startFakeIdp } from '../support/fake-idp.js';
import { type Stack, startStack } from '../support/stack.js';

const windowMs = 1000;
const model = (id: string, extra: Partial<ModelEntryInput> = {}): ModelEntryInput => ({
  id,
  name: id,
  maxOutputTokens: 4096,
  contextWindow: 200_000,
  quota: { requestsPerMinute: 100_000, tokensPerMinute: 1_000_000_000 },
  // Round prices: costs are easy to reason about (USD per 1000 tokens).
  price: { inputPer1k: 1, outputPer1k: 2 },
  ...extra,
});
const catalog = [
  model('test.budget', { default: true }),
  model('test.vip', { allowedGroups: ['vip'] }),
  // "Per minute" is per window here: 20 requests a second, shared by chats and a capped batch client.
  model('test.shared', { quota: { requestsPerMinute: 20, tokensPerMinute: 1_000_000_000 } }),
  // A tokenizer that makes twice the Claude 3 count of the same text.
  model('test.dense', { tokenizerRatio: 2 }),
];
const maxTokens = 40;
const question = (i: number) => `Question ${String(i).padStart(3, '0')} [[emulator:tokens=20]]`;

describe('budgets, model access and shares across 2 API nodes and 3 workers', () => {
  let stack: Stack;
  let idp: Awaited<ReturnType<typeof startFakeIdp>>;
  let admin: string;
  const clients: ChatClient[] = [];
  const records: RequestRecord[] = [];

  beforeAll(async () => {
    idp = await startFakeIdp();
    const dir = mkdtempSync(join(tmpdir(), 'sb-budgets-'));
    const modelsFile = join(dir, 'models.json');
    writeFileSync(modelsFile, JSON.stringify(catalog));
    stack = await startStack({
      apis: 2,
      workers: 3,
      emulator: { models: catalog as never, windowMs, tps: 2000, ttfbMs: 5 },
      env: {
        ...idp.env,
        MODELS_FILE: modelsFile,
        QUOTA_WINDOW_MS: String(windowMs),
        QUOTA_SAFETY_MARGIN_MS: '100',
        CHAT_TITLES: 'words',
        LOG_LEVEL: 'warn',
        RATE_CHAT_CONCURRENT: '0',
        RATE_CHAT_PER_MINUTE: '0',
        RATE_JOBS_PER_MINUTE: '0',
      },
    });
    stack.emulator.on('request', (r) => records.push(r));
    admin = await idp.person('root', ['admin']);
  }, 120_000);

  afterAll(async () => {
    // SB_DUMP_OUTPUT=<file>: the processes' output, to see why a run failed.
    if (process.env.SB_DUMP_OUTPUT && stack) {
      const { writeFileSync: write } = await import('node:fs');
      write(process.env.SB_DUMP_OUTPUT, [...stack.apis, ...stack.workers].map((p) => `== ${p.name}\n${p.output.join('')}`).join('\n'));
    }
    for (const c of clients) c.close();
    await stack?.stop();
    await idp?.close();
  }, 60_000);

  const api = (i = 0) => stack.apis[i % stack.apis.length]!.url!;
  const rest = async <T>(token: string, method: string, path: string, body?: unknown, node = 0): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${api(node)}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const connect = async (token: string, node: number) => {
    const client = await ChatClient.connect(api(node), token);
    clients.push(client);
    return client;
  };

  it('holds a group budget over 200 chats from 20 users: settled cost within one call of the limit, the rest refused with budget_exceeded', async () => {
    // What one such chat costs (a user outside the group).
    const calib = await connect(await idp.person('calib'), 0);
    const ack = await calib.send({ content: [{ type: 'text', text: question(0) }], params: { maxTokens } });
    if (!ack.ok) throw new Error(ack.error.message);
    await calib.waitForEnd(ack.jobId);
    const one = calib.done.get(ack.jobId)!;
    const costOfOne = (one.usage.inputTokens * 1 + one.usage.outputTokens * 2) / 1000;
    // Our estimate of the input is on the safe side (3.5 characters a token, the emulator counts 4).
    const worstCall = ((Math.ceil(((one.usage.inputTokens + 1) * 4) / 3.5) + 1) * 1 + maxTokens * 2) / 1000;

    const limitUsd = Number((costOfOne * 100).toFixed(6));
    const created = await rest<{ id: string }>(admin, 'POST', '/v1/admin/budgets', { scope: 'group', subject: 'team', period: 'month', limitUsd, mode: 'block' }, 1);
    expect(created.status).toBe(201);

    const users = await Promise.all(Array.from({ length: 20 }, async (_, u) => connect(await idp.person(`member${u}`, ['team']), u)));
    const sent = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const client = users[i % 20]!;
        const reply = await client.send({ content: [{ type: 'text', text: question(i + 1) }], params: { maxTokens } });
        if (!reply.ok) throw new Error(reply.error.message);
        return { client, jobId: reply.jobId };
      }),
    );
    await Promise.all(sent.map(({ client, jobId }) => client.waitForEnd(jobId, 60_000)));

    const answered = sent.filter(({ client, jobId }) => client.done.has(jobId));
    const refused = sent.filter(({ client, jobId }) => client.errors.has(jobId)).map(({ client, jobId }) => client.errors.get(jobId)!);
    expect(answered.length + refused.length).toBe(200);
    expect(answered.length).toBeGreaterThan(50);
    expect(refused.length).toBeGreaterThan(50);
    for (const e of refused) {
      expect(e).toMatchObject({ code: 'budget_exceeded', retryable: false });
      expect(e.message).toMatch(/until \d{4}-\d{2}-01T00:00:00Z \(UTC\)/);
    }

    // The ledger (as the admin report groups it) against the limit: never over, within one call of it.
    const byGroup = await rest<AdminUsage>(admin, 'GET', '/v1/admin/usage?groupBy=group');
    const team = byGroup.body.rows.find((r) => r.key === 'team')!;
    expect(team.calls).toBe(answered.length);
    expect(team.costUsd).toBeLessThanOrEqual(limitUsd + 1e-9);
    expect(limitUsd - team.costUsd).toBeLessThan(worstCall);
    // The budget's counter in Redis (what admission enforces) agrees with the ledger.
    const mine = await rest<MeUsage>(await idp.person('member0', ['team']), 'GET', '/v1/me/usage', undefined, 1);
    expect(mine.body.budgets).toHaveLength(1);
    expect(mine.body.budgets[0]!.spentUsd).toBeCloseTo(team.costUsd, 6);
    expect(mine.body.budgets[0]).toMatchObject({ scope: 'group', subject: 'team', limitUsd, mode: 'block' });
    expect(new Date(mine.body.budgets[0]!.resetsAt).getUTCDate()).toBe(1);
    // A budget made now counts what its subject already spent this period (seeded from the ledger).
    const later = await rest<{ id: string }>(admin, 'POST', '/v1/admin/budgets', { scope: 'group', subject: 'team', period: 'day', limitUsd: 1000, mode: 'warn' });
    const seeded = await rest<MeUsage>(await idp.person('member1', ['team']), 'GET', '/v1/me/usage', undefined, 0);
    expect(seeded.body.budgets.find((b) => b.id === later.body.id)!.spentUsd).toBeCloseTo(team.costUsd, 6);
    expect((await rest(admin, 'DELETE', `/v1/admin/budgets/${later.body.id}`)).status).toBe(204);
  }, 90_000);

  it('lists and serves only the models a caller’s groups may use, on REST and the socket', async () => {
    const teamToken = await idp.person('member0', ['team']);
    const vipToken = await idp.person('vera', ['vip']);
    const listed = async (token: string) => (await rest<PublicModel[]>(token, 'GET', '/v1/models')).body.map((m) => m.id);
    expect(await listed(teamToken)).toEqual(['test.budget', 'test.shared', 'test.dense']);
    expect(await listed(vipToken)).toEqual(['test.budget', 'test.vip', 'test.shared', 'test.dense']);
    // Quota, token counting and access lists stay the operator's.
    const dense = (await rest<Record<string, unknown>[]>(vipToken, 'GET', '/v1/models')).body.find((m) => m['id'] === 'test.dense')!;
    expect(['quota', 'tokenizerRatio', 'allowedGroups'].filter((k) => k in dense)).toEqual([]);

    expect((await rest<{ error: { code: string } }>(teamToken, 'POST', '/v1/conversations', { modelId: 'test.vip' })).body.error.code).toBe('model_not_allowed');
    const member = await connect(teamToken, 1);
    const ack = await member.send({ modelId: 'test.vip', content: [{ type: 'text', text: 'hello' }] });
    expect(ack).toMatchObject({ ok: false, error: { code: 'model_not_allowed' } });
    // A `warn` budget far below one call: the chat goes through, flagged in the audit log.
    const warn = await rest(admin, 'POST', '/v1/admin/budgets', { scope: 'user', subject: 'sub-vera', period: 'day', limitUsd: 0.000001, mode: 'warn' });
    expect(warn.status).toBe(201);
    const vip = await connect(vipToken, 0);
    const allowed = await vip.send({ modelId: 'test.vip', content: [{ type: 'text', text: 'hello [[emulator:tokens=3]]' }] });
    if (!allowed.ok) throw new Error(allowed.error.message);
    await vip.waitForEnd(allowed.jobId);
    expect(vip.done.has(allowed.jobId)).toBe(true);
    const warned = await rest<AuditPage>(admin, 'GET', '/v1/admin/audit?action=budget.warned');
    expect(warned.body.items).toEqual([expect.objectContaining({ actor: 'sub-vera', target: `job:${allowed.jobId}`, details: expect.objectContaining({ budgetId: (warn.body as { id: string }).id }) })]);

    const job = await rest<{ error: { code: string } }>(await idp.client('batch-client'), 'POST', '/v1/jobs/summarize', { text: 'Some text.', modelId: 'test.vip' }, 1);
    expect(job.status).toBe(403);
    expect(job.body.error.code).toBe('model_not_allowed');

    const audit = await rest<AuditPage>(admin, 'GET', '/v1/admin/audit?action=call.refused&limit=200');
    const codes = new Set(audit.body.items.map((e) => (e.details as { code: string }).code));
    expect([...codes].sort()).toEqual(['budget_exceeded', 'model_not_allowed']);
    const changes = await rest<AuditPage>(admin, 'GET', '/v1/admin/audit?action=budget.create');
    expect(changes.body.items.at(-1)).toMatchObject({ actor: 'sub-root', action: 'budget.create', after: { subject: 'team' } });
    expect((await rest(teamToken, 'GET', '/v1/admin/audit')).status).toBe(403);
  }, 30_000);

  it('refuses at submission a job whose text alone is over a block budget, counted in the model’s own tokens', async () => {
    const created = await rest<{ id: string }>(admin, 'POST', '/v1/admin/budgets', { scope: 'client', subject: 'batch-client', period: 'day', limitTokens: 1000, mode: 'block' });
    expect(created.status).toBe(201);
    const token = await idp.client('batch-client');
    // 2,400 characters: 600 Claude 3 tokens, under the limit; 1,200 for test.dense, over it. (The
    // client has spent nothing yet: the share test below comes after.)
    const text = 'Budgets count tokens. '.repeat(120).slice(0, 2400);
    const refused = await rest<{ error: { code: string } }>(token, 'POST', '/v1/jobs/summarize', { text, modelId: 'test.dense' });
    expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 402, code: 'budget_exceeded' });
    const accepted = await rest<Job>(token, 'POST', '/v1/jobs/summarize', { text, modelId: 'test.budget' }, 1);
    expect(accepted.status).toBe(202);
    expect((await rest(admin, 'DELETE', `/v1/admin/budgets/${created.body.id}`)).status).toBe(204);
  });

  it('caps a batch client at its share of a model while chats load the same model', async () => {
    const share = await rest(admin, 'POST', '/v1/admin/shares', { scope: 'client', subject: 'batch-client', modelId: 'test.shared', maxPercent: 25 });
    expect(share.status).toBe(201);
    const cap = (20 * 25) / 100;
    records.length = 0;

    const batch = await idp.client('batch-client');
    const chatters = await Promise.all(Array.from({ length: 6 }, async (_, u) => connect(await idp.person(`chatter${u}`), u)));
    const [jobs, chats] = await Promise.all([
      Promise.all(
        Array.from({ length: 15 }, async (_, i) => {
          const res = await rest<Job>(batch, 'POST', '/v1/jobs/summarize', { text: `Document ${i}. [[emulator:tokens=5]]`, modelId: 'test.shared' }, i);
          expect(res.status).toBe(202);
          return res.body.id;
        }),
      ),
      Promise.all(
        Array.from({ length: 24 }, async (_, i) => {
          const client = chatters[i % 6]!;
          const reply = await client.send({ modelId: 'test.shared', content: [{ type: 'text', text: `Chat ${i} [[emulator:tokens=5]]` }] });
          if (!reply.ok) throw new Error(reply.error.message);
          return { client, jobId: reply.jobId };
        }),
      ),
    ]);
    await Promise.all(chats.map(({ client, jobId }) => client.waitForEnd(jobId, 60_000)));
    for (const id of jobs) {
      for (;;) {
        const { body } = await rest<Job>(batch, 'GET', `/v1/jobs/${id}`);
        if (body.status === 'completed') break;
        expect(['queued', 'active']).toContain(body.status);
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    // Bedrock's view: in any window, the batch client's calls (non-streaming Converse) stay within its share.
    const summaries = records.filter((r) => r.modelId === 'test.shared' && r.operation === 'converse' && r.status === 200);
    expect(summaries).toHaveLength(15);
    for (const r of summaries) {
      expect(summaries.filter((o) => o.time > r.time - windowMs && o.time <= r.time).length).toBeLessThanOrEqual(cap);
    }
    expect(records.filter((r) => r.status === 429)).toHaveLength(0);
  }, 60_000);

  it('keeps one ledger row per Bedrock call: the ledger sums equal the emulator’s usage', async () => {
    const byModel = await rest<AdminUsage>(admin, 'GET', '/v1/admin/usage?groupBy=model');
    const sum = (k: 'inputTokens' | 'outputTokens' | 'calls') => byModel.body.rows.reduce((n, r) => n + r[k], 0);
    const stats = stack.emulator.stats();
    expect(sum('calls')).toBe(stats.requests.byStatus['200']);
    expect(sum('inputTokens')).toBe(stats.tokens.input);
    expect(sum('outputTokens')).toBe(stats.tokens.output);
    const csv = await fetch(`${api(1)}/v1/admin/usage?groupBy=model`, { headers: { authorization: `Bearer ${admin}`, accept: 'text/csv' } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await csv.text()).split('\r\n')[0]).toBe('model,calls,inputTokens,outputTokens,cacheReadTokens,cacheWriteTokens,costUsd');
  }, 30_000);

  // Admin REST details on the same stack (a stack of its own would cost more than these checks).
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const call = async (token: string, method: string, path: string, body: unknown, status: number): Promise<{ status: number; body: any }> => {
    const res = await rest(token, method, path, body, 1);
    if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)} (expected ${status})`);
    return res;
  };
  let user: string;
  beforeAll(async () => {
    user = await idp.person('joe');
  });

  it('admin REST is for admins only, and validates strictly', async () => {
    for (const path of ['/v1/admin/budgets', '/v1/admin/shares', '/v1/admin/usage', '/v1/admin/audit']) {
      const res = await call(user, 'GET', path, undefined, 403);
      expect(res.body.error.code).toBe('forbidden');
    }
    const bad = [
      { scope: 'group', subject: 'x', period: 'month', mode: 'block' }, // no limit
      { scope: 'team', subject: 'x', period: 'month', limitUsd: 1, mode: 'block' },
      { scope: 'group', subject: 'x', period: 'week', limitUsd: 1, mode: 'block' },
      { scope: 'group', subject: 'x', period: 'day', limitUsd: -1, mode: 'block' },
      { scope: 'group', subject: 'x', period: 'day', limitUsd: 1, mode: 'block', extra: true },
      { scope: 'group', subject: '', period: 'day', limitTokens: 1.5, mode: 'warn' },
    ];
    for (const body of bad) await call(admin, 'POST', '/v1/admin/budgets', body, 400);
    await call(admin, 'POST', '/v1/admin/shares', { scope: 'client', subject: 'c', minPercent: 50, maxPercent: 20 }, 400);
    await call(admin, 'POST', '/v1/admin/shares', { scope: 'user', subject: 'c', maxPercent: 20 }, 400);
    await call(admin, 'GET', '/v1/admin/usage?groupBy=team', undefined, 400);
    await call(admin, 'GET', '/v1/admin/usage?from=2026-02-01&to=2026-01-01', undefined, 400);
    await call(admin, 'GET', '/v1/admin/audit?limit=1000', undefined, 400);
    await call(admin, 'PATCH', '/v1/admin/budgets/not-a-uuid', { mode: 'warn' }, 404);
  }, 30_000);

  it('creates, changes and deletes budgets and shares, each change audited with before and after', async () => {
    const created = await call(admin, 'POST', '/v1/admin/budgets', { scope: 'user', subject: 'sub-joe', period: 'day', limitUsd: 5, mode: 'warn' }, 201);
    const id = created.body.id as string;
    const patched = await call(admin, 'PATCH', `/v1/admin/budgets/${id}`, { limitTokens: 1000, limitUsd: null, mode: 'block' }, 200);
    expect(patched.body).toMatchObject({ id, limitTokens: 1000, mode: 'block' });
    expect(patched.body.limitUsd).toBeUndefined();
    await call(admin, 'PATCH', `/v1/admin/budgets/${id}`, { limitTokens: null }, 400); // one limit must remain

    const mine = await call(user, 'GET', '/v1/me/usage', undefined, 200);
    expect(mine.body).toMatchObject({ period: 'month', costUsd: 0, budgets: [{ id, scope: 'user', period: 'day', limitTokens: 1000, spentUsd: 0, spentTokens: 0 }] });
    expect(mine.body.budgets[0].resetsAt).toMatch(/T00:00:00\.000Z$/);

    const share = await call(admin, 'POST', '/v1/admin/shares', { scope: 'client', subject: 'nightly', maxPercent: 30 }, 201);
    await call(admin, 'PATCH', `/v1/admin/shares/${share.body.id}`, { minPercent: 10 }, 200);
    const shares = (await call(admin, 'GET', '/v1/admin/shares', undefined, 200)).body.items as { id: string }[];
    expect(shares.find((x) => x.id === share.body.id)).toMatchObject({ scope: 'client', subject: 'nightly', minPercent: 10, maxPercent: 30 });
    await call(admin, 'DELETE', `/v1/admin/shares/${share.body.id}`, undefined, 204);
    await call(admin, 'DELETE', `/v1/admin/budgets/${id}`, undefined, 204);
    await call(admin, 'DELETE', `/v1/admin/budgets/${id}`, undefined, 404);

    const audit = await call(admin, 'GET', '/v1/admin/audit?limit=3', undefined, 200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['budget.delete', 'share.delete', 'share.update']);
    const next = await call(admin, 'GET', `/v1/admin/audit?limit=2&cursor=${audit.body.nextCursor}`, undefined, 200);
    expect(next.body.items.map((e: { action: string }) => e.action)).toEqual(['share.create', 'budget.update']);
    // One sign-in entry for the admin's token, however many requests and nodes it went to.
    const signins = await call(admin, 'GET', '/v1/admin/audit?action=admin.signin', undefined, 200);
    expect(signins.body.items).toHaveLength(1);
    expect(signins.body.items[0]).toMatchObject({ actor: 'sub-root', action: 'admin.signin' });
    const update = next.body.items[1];
    expect(update).toMatchObject({ actor: 'sub-root', target: `budget:${id}`, before: { limitUsd: 5, mode: 'warn' }, after: { limitTokens: 1000, mode: 'block' } });
  }, 30_000);

  it('reports the ledger grouped by group, as JSON and as CSV with hostile group names defused', async () => {
    // Group names come from the IdP: two that a spreadsheet or a naive CSV writer would get wrong.
    const hostile = await connect(await idp.person('joe', ['=cmd|calc', 'team, "a"']), 1);
    for (const i of [1, 2]) {
      const ack = await hostile.send({ content: [{ type: 'text', text: `Hostile ${i} [[emulator:tokens=3]]` }], params: { maxTokens } });
      if (!ack.ok) throw new Error(ack.error.message);
      await hostile.waitForEnd(ack.jobId);
    }
    const byGroup = await call(admin, 'GET', '/v1/admin/usage?groupBy=group', undefined, 200);
    const rows = byGroup.body.rows.filter((r: { key: string }) => r.key === '=cmd|calc' || r.key === 'team, "a"');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ calls: 2, outputTokens: 6 });
    const { inputTokens, costUsd } = rows[0] as { inputTokens: number; costUsd: number };
    const csv = await fetch(`${api(1)}/v1/admin/usage?groupBy=group`, { headers: { ...as(admin), accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="usage-group-/);
    const lines = (await csv.text()).split('\r\n');
    expect(lines[0]).toBe('group,calls,inputTokens,outputTokens,cacheReadTokens,cacheWriteTokens,costUsd');
    expect(lines).toEqual(expect.arrayContaining([`'=cmd|calc,2,${inputTokens},6,0,0,${costUsd}`, `"team, ""a""",2,${inputTokens},6,0,0,${costUsd}`]));
    const me = await call(user, 'GET', '/v1/me/usage', undefined, 200);
    expect(me.body).toMatchObject({ inputTokens, outputTokens: 6 });
    expect(me.body.costUsd).toBeCloseTo(costUsd, 9);
    const byDay = await call(admin, 'GET', '/v1/admin/usage?groupBy=day&from=2020-01-01', undefined, 200);
    expect(byDay.body.rows).toEqual([expect.objectContaining({ key: new Date().toISOString().slice(0, 10) })]);
  }, 30_000);
});
