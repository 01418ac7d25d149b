import request from 'supertest';
import { emulatorAnswer } from '@switchboard/bedrock-emulator';
import type { ConversationWithMessages } from '@switchboard/contracts';
import { ChatClient, range } from '../support/chat-client.js';
import { isRunning, type Stack, startStack, stopProcess } from '../support/stack.js';

const modelId = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const answerFor = (text: string) => emulatorAnswer({ modelId, messages: [{ role: 'user', content: [{ text }] }], maxTokens: 4096 });

describe('chat when Bedrock or a worker fails', () => {
  let stack: Stack;
  let client: ChatClient;
  let token: string;

  beforeAll(async () => {
    stack = await startStack({ apis: 1, workers: 1 });
    token = await stack.token('ops');
    client = await ChatClient.connect(stack.apis[0]!.url!, token);
  }, 120_000);

  afterEach(() => stack.emulator.clearFaults());

  afterAll(async () => {
    client?.close();
    await stack?.stop();
  }, 60_000);

  it('retries after a mid-stream error and continues where the answer stopped: no gap, no repeat', async () => {
    stack.emulator.injectFault({ type: 'streamError', afterTokens: 40, count: 1, exception: 'modelStreamErrorException' });
    const text = 'Survive a hiccup [[emulator:tokens=150]]';
    const ack = await client.send({ content: [{ type: 'text', text }] });
    if (!ack.ok) throw new Error(ack.error.message);
    await client.waitForEnd(ack.jobId);

    expect(client.statuses.get(ack.jobId)?.map((s) => s.state)).toContain('retrying');
    expect(client.statuses.get(ack.jobId)?.find((s) => s.state === 'retrying')?.attempt).toBe(2);
    const seqs = client.seqs(ack.jobId);
    expect(seqs).toEqual(range(1, seqs.length));
    const done = client.done.get(ack.jobId)!;
    expect(client.text(ack.jobId)).toBe(done.text);
    expect(done.text).toBe(answerFor(text).text);
  });

  it('gives up after the last attempt with chat:error and a failed message', async () => {
    stack.emulator.injectFault({ type: 'serviceUnavailable', count: 10 });
    const ack = await client.send({ content: [{ type: 'text', text: 'Will fail' }] });
    if (!ack.ok) throw new Error(ack.error.message);
    await client.waitForEnd(ack.jobId);
    expect(client.errors.get(ack.jobId)).toMatchObject({ code: 'model_error', retryable: true });
    const res = await request(stack.apis[0]!.url!)
      .get(`/v1/conversations/${ack.conversationId}`)
      .set('authorization', `Bearer ${token}`)
      .expect(200);
    expect((res.body as ConversationWithMessages).messages[1]).toMatchObject({ role: 'assistant', status: 'failed' });
  });

  it('lets a running answer finish when its worker gets SIGTERM', async () => {
    const text = 'Finish before you go [[emulator:tokens=300,tps=300]]';
    const ack = await client.send({ content: [{ type: 'text', text }] });
    if (!ack.ok) throw new Error(ack.error.message);
    await client.waitFor(() => (client.deltas.get(ack.jobId)?.length ?? 0) >= 2, 20_000, 'first deltas');
    const worker = stack.workers[0]!;
    await stopProcess(worker, 'SIGTERM');
    expect(isRunning(worker)).toBe(false);
    expect(worker.child.exitCode).toBe(0);
    await client.waitForEnd(ack.jobId);
    expect(client.done.get(ack.jobId)?.text).toBe(answerFor(text).text);
    // A new worker picks up work sent while there was none.
    const next = await client.send({ content: [{ type: 'text', text: 'Anyone there? [[emulator:tokens=10]]' }] });
    if (!next.ok) throw new Error(next.error.message);
    await stack.startWorker();
    await client.waitForEnd(next.jobId);
    expect(client.done.get(next.jobId)?.stopReason).toBe('end_turn');
  });
});
