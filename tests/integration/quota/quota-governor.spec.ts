import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestRecord } from '@switchboard/bedrock-emulator';
import type { ModelEntry } from '@switchboard/contracts';
import { ChatClient } from '../support/chat-client.js';
import { type Stack, startStack } from '../support/stack.js';

const windowMs = 5000;
const model = (id: string, requestsPerMinute: number, tokensPerMinute: number, outputBurndown?: number): ModelEntry => ({
  id,
  name: id,
  vision: false,
  documents: false,
  maxOutputTokens: 4096,
  contextWindow: 200_000,
  quota: { requestsPerMinute, tokensPerMinute, ...(outputBurndown ? { outputBurndown } : {}) },
  price: { inputPer1k: 0.001, outputPer1k: 0.005 },
});
// "Per minute" limits apply per window: tests shorten the window to seconds, on both sides.
const catalog = [
  model('test.rpm', 10, 10_000_000),
  // Output tokens use up 5 quota tokens each, as on Bedrock for Claude 3.7 and 4.x.
  model('test.tpm', 10_000, 30_000, 5),
  model('test.fair', 2, 10_000_000),
  model('test.prio', 3, 10_000_000),
];

/**
 * One model's admitted requests in the full windows of the run, against what the quota allows
 * there (another model's calls, such as the titles of an earlier test's chats, do not count).
 */
function utilization(records: RequestRecord[], modelId: string, perWindow: number, measure: (r: RequestRecord) => number) {
  const ok = records.filter((r) => r.status === 200 && r.modelId === modelId).sort((a, b) => a.time - b.time);
  const start = ok[0]!.time;
  const windows = Math.floor((ok.at(-1)!.time - start) / windowMs);
  const inFull = ok.filter((r) => r.time < start + windows * windowMs);
  return { windows, used: inFull.reduce((sum, r) => sum + measure(r), 0) / (windows * perWindow) };
}

describe('quota governor across three worker processes', () => {
  let stack: Stack;
  const records: RequestRecord[] = [];
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-quota-'));
    const modelsFile = join(dir, 'models.json');
    writeFileSync(modelsFile, JSON.stringify(catalog));
    stack = await startStack({
      apis: 1,
      workers: 3,
      emulator: { models: catalog, windowMs, strict: true, tps: null, ttfbMs: 20 },
      // The governor is under test, not the per-user limits: one user sends many chats here.
      env: { MODELS_FILE: modelsFile, QUOTA_WINDOW_MS: String(windowMs), QUOTA_SAFETY_MARGIN_MS: '100', LOG_LEVEL: 'warn', RATE_CHAT_CONCURRENT: '0', RATE_CHAT_PER_MINUTE: '0' },
    });
    stack.emulator.on('request', (r) => records.push(r));
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await stack?.stop();
  }, 60_000);

  const users = async (n: number, prefix: string) =>
    Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const client = await ChatClient.connect(stack.apis[0]!.url!, await stack.token(`${prefix}${i}`));
        clients.push(client);
        return client;
      }),
    );
  const send = async (client: ChatClient, modelId: string, text: string, params = {}) => {
    const ack = await client.send({ modelId, content: [{ type: 'text', text }], params });
    if (!ack.ok) throw new Error(ack.error.message);
    return ack.jobId;
  };

  it('holds a requests-per-window quota with a 5x backlog: no 429, at least 95 % used', async () => {
    records.length = 0;
    const clientsA = await users(5, 'rpm-');
    const jobs = await Promise.all(
      Array.from({ length: 50 }, (_, i) => send(clientsA[i % 5]!, 'test.rpm', `Question ${i} [[emulator:tokens=20]]`).then((jobId) => ({ jobId, client: clientsA[i % 5]! }))),
    );
    // Waiting chats see their place in line.
    await Promise.all(jobs.map(({ client, jobId }) => client.waitForEnd(jobId, 90_000)));
    for (const { client, jobId } of jobs) expect(client.done.get(jobId)?.stopReason).toBe('end_turn');
    const positions = jobs.flatMap(({ client, jobId }) => client.statuses.get(jobId) ?? []).filter((s) => s.state === 'queued' && s.position);
    expect(positions.length).toBeGreaterThan(20);

    expect(records.filter((r) => r.status === 429)).toHaveLength(0);
    const { windows, used } = utilization(records, 'test.rpm', 10, () => 1);
    console.log(`requests-per-window utilization ${(used * 100).toFixed(1)} % over ${windows} windows`);
    expect(windows).toBeGreaterThanOrEqual(4);
    expect(used).toBeGreaterThanOrEqual(0.95);
  }, 120_000);

  it('holds a tokens-per-window quota with answers of varying length and 5 × output burndown: no 429, at least 95 % used', async () => {
    records.length = 0;
    const clientsB = await users(4, 'tpm-');
    const jobs = await Promise.all(
      Array.from({ length: 120 }, (_, i) => {
        const client = clientsB[i % 4]!;
        const tokens = 30 + ((i * 53) % 271);
        return send(client, 'test.tpm', `Item ${i} [[emulator:tokens=${tokens}]]`, { maxTokens: 300 }).then((jobId) => ({ jobId, client }));
      }),
    );
    await Promise.all(jobs.map(({ client, jobId }) => client.waitForEnd(jobId, 120_000)));
    for (const { client, jobId } of jobs) expect(client.done.has(jobId)).toBe(true);

    expect(records.filter((r) => r.status === 429)).toHaveLength(0);
    const { windows, used } = utilization(records, 'test.tpm', 30_000, (r) => r.inputTokens + 5 * r.outputTokens);
    expect(windows).toBeGreaterThanOrEqual(3);
    console.log(`tokens-per-window utilization ${(used * 100).toFixed(1)} % over ${windows} windows`);
    expect(used).toBeGreaterThanOrEqual(0.95);
  }, 150_000);

  it('admits a chat next while batch jobs saturate the model', async () => {
    const [client] = await users(1, 'prio-');
    const token = await stack.token('batch-client', { scopes: ['jobs:read', 'jobs:write'] });
    const before = records.length;
    for (let i = 0; i < 9; i++) {
      const res = await fetch(`${stack.apis[0]!.url}/v1/jobs/summarize`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ modelId: 'test.prio', text: `Report ${i}: the quarter went well. [[emulator:tokens=10]]` }),
      });
      expect(res.status).toBe(202);
    }
    const prio = () => records.slice(before).filter((r) => r.modelId === 'test.prio');
    await client!.waitFor(() => false, 300).catch(() => undefined);
    while (prio().length < 3) await new Promise((r) => setTimeout(r, 50));

    const sentAt = Date.now();
    const jobId = await send(client!, 'test.prio', 'Me first? [[emulator:tokens=5]]');
    await client!.waitFor(() => (client!.statuses.get(jobId) ?? []).some((s) => s.state === 'active'), 30_000, 'chat admission');
    const activeAt = Date.now();
    // The window was full when the chat arrived. The chat ranks first in line, so it is admitted in
    // the next window; batch jobs behind it may take that window's other slots (3 per window), and
    // may ask a few ms earlier than the chat does.
    const batchCallsBefore = prio().filter((r) => r.operation === 'converse' && r.time >= sentAt && r.time < activeAt - 5);
    expect(batchCallsBefore.length).toBeLessThanOrEqual(2);
    expect(activeAt - sentAt).toBeLessThan(windowMs + 1500);
    await client!.waitForEnd(jobId, 30_000);
  }, 90_000);

  it("lets users take turns: one user's backlog does not starve another's chat", async () => {
    const [ana, bob] = await users(2, 'fair-');
    const anaJobs = [];
    for (let i = 0; i < 8; i++) anaJobs.push(await send(ana!, 'test.fair', `Ana ${i} [[emulator:tokens=5]]`));
    const bobJob = await send(bob!, 'test.fair', 'Bob [[emulator:tokens=5]]');
    await bob!.waitForEnd(bobJob, 60_000);
    const bobActive = Date.now();
    const anaDoneBefore = anaJobs.filter((id) => ana!.done.has(id)).length;
    // Two requests per window: Bob gets in within the first two windows, ahead of most of Ana's line.
    expect(anaDoneBefore).toBeLessThanOrEqual(4);
    expect(bobActive).toBeGreaterThan(0);
    await Promise.all(anaJobs.map((id) => ana!.waitForEnd(id, 90_000)));
  }, 120_000);
});
