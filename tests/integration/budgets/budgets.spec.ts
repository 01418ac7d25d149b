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
  }, 90_000);

  it('lists and serves only the models a caller’s groups may use, on REST and the socket', async () => {
    const teamToken = await idp.person('member0', ['team']);
    const vipToken = await idp.person('vera', ['vip']);
    const listed = async (token: string) => (await rest<PublicModel[]>(token, 'GET', '/v1/models')).body.map((m) => m.id);
    expect(await listed(teamToken)).toEqual(['test.budget', 'test.shared']);
    expect(await listed(vipToken)).toEqual(['test.budget', 'test.vip', 'test.shared']);

    const member = await connect(teamToken, 1);
    const ack = await member.send({ modelId: 'test.vip', content: [{ type: 'text', text: 'hello' }] });
    expect(ack).toMatchObject({ ok: false, error: { code: 'model_not_allowed' } });
    const vip = await connect(vipToken, 0);
    const allowed = await vip.send({ modelId: 'test.vip', content: [{ type: 'text', text: 'hello [[emulator:tokens=3]]' }] });
    if (!allowed.ok) throw new Error(allowed.error.message);
    await vip.waitForEnd(allowed.jobId);
    expect(vip.done.has(allowed.jobId)).toBe(true);

    const job = await rest<{ error: { code: string } }>(await idp.client('batch-client'), 'POST', '/v1/jobs/summarize', { text: 'Some text.', modelId: 'test.vip' }, 1);
    expect(job.status).toBe(403);
    expect(job.body.error.code).toBe('model_not_allowed');

    const audit = await rest<AuditPage>(admin, 'GET', '/v1/admin/audit?action=call.refused&limit=200');
    const codes = new Set(audit.body.items.map((e) => (e.details as { code: string }).code));
    expect([...codes].sort()).toEqual(['budget_exceeded', 'model_not_allowed']);
    const changes = await rest<AuditPage>(admin, 'GET', '/v1/admin/audit?action=budget.create');
    expect(changes.body.items[0]).toMatchObject({ actor: 'sub-root', action: 'budget.create', after: { subject: 'team' } });
    expect((await rest(teamToken, 'GET', '/v1/admin/audit')).status).toBe(403);
  }, 30_000);

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
});
