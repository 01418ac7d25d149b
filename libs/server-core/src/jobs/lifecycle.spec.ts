import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { testQueuePrefix, testRedisUrl } from '@switchboard/testing';
import { cancelKey, type ChatJobData, chatQueueName } from '../queues/queues.js';
import { appendToJobStream, jobStreamKey, readJobStream } from '../streams/job-stream.js';
import {
  chatJobFromRow,
  endJobStream,
  enqueueChat,
  isCancelRequested,
  isFinalAttempt,
  listenForCancelRequests,
  lostEnding,
  poisonEnding,
  requestCancel,
} from './lifecycle.js';

describe('job lifecycle on real Redis', () => {
  const redis = new Redis(testRedisUrl);
  const subscriber = new Redis(testRedisUrl);
  const prefix = testQueuePrefix();
  const queue = new Queue<ChatJobData>(chatQueueName, { connection: redis, prefix });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    subscriber.disconnect();
    await redis.quit();
  });
  const chat = (jobId = randomUUID()): ChatJobData => ({
    jobId,
    owner: 'u1',
    conversationId: randomUUID(),
    userMessageId: randomUUID(),
    assistantMessageId: randomUUID(),
    modelId: 'm',
    params: {},
    requestId: 'r',
  });

  it('counts the last attempt from the job options', () => {
    expect(isFinalAttempt({ attemptsMade: 0, opts: { attempts: 3 } })).toBe(false);
    expect(isFinalAttempt({ attemptsMade: 2, opts: { attempts: 3 } })).toBe(true);
    expect(isFinalAttempt({ attemptsMade: 0, opts: {} })).toBe(true);
  });

  it('enqueues under the Postgres id once, and rebuilds the same payload from a stored row', async () => {
    const data = chat();
    await enqueueChat(queue, data);
    await enqueueChat(queue, [data, data]);
    expect(await queue.getJobCountByTypes('waiting')).toBe(1);
    expect((await queue.getJob(data.jobId))?.opts.attempts).toBe(3);
    const row = { id: data.jobId, owner: 'u1', modelId: 'm', conversationId: data.conversationId, assistantMessageId: data.assistantMessageId, userMessageId: data.userMessageId, input: { params: {} }, requestId: 'r' };
    expect(chatJobFromRow(row)).toEqual(data);
    expect(chatJobFromRow({ ...row, userMessageId: null })).toBeUndefined();
  });

  it('cancels a waiting job by removing it, and tells the workers', async () => {
    const data = chat();
    await enqueueChat(queue, data);
    let hear!: (jobId: string) => void;
    const heard = new Promise<string>((resolve) => (hear = resolve));
    await listenForCancelRequests(subscriber, prefix, (jobId) => hear(jobId));
    expect(await requestCancel(redis, queue, prefix, data.jobId)).toEqual({ removed: true });
    expect(await heard).toBe(data.jobId);
    expect(await isCancelRequested(redis, data.jobId)).toBe(true);
    expect(await queue.getJob(data.jobId)).toBeUndefined();
    await redis.del(cancelKey(data.jobId));
  });

  it('ends a stream with one done or error entry after what was written', async () => {
    const done = randomUUID();
    await endJobStream(redis, done, { status: 'cancelled', conversationId: 'c', messageId: 'm', text: 'partial' });
    expect(await readJobStream(redis, done, 0)).toEqual([
      { kind: 'done', seq: 1, event: { conversationId: 'c', messageId: 'm', stopReason: 'cancelled', usage: { inputTokens: 0, outputTokens: 0 }, text: 'partial' } },
    ]);
    const failed = randomUUID();
    await endJobStream(redis, failed, { status: 'failed', error: { code: 'internal', message: 'lost' }, retryable: true }, 7);
    expect(await readJobStream(redis, failed, 0)).toEqual([{ kind: 'error', seq: 7, event: { code: 'internal', message: 'lost', retryable: true } }]);
    await redis.del(jobStreamKey(done), jobStreamKey(failed));
  });

  it('ends a stream that has only deltas after them, and leaves a stream that already ended as it is', async () => {
    const jobId = randomUUID();
    await appendToJobStream(redis, jobId, { kind: 'delta', seq: 1, text: 'Hel' });
    await appendToJobStream(redis, jobId, { kind: 'delta', seq: 2, text: 'lo' });
    expect(await endJobStream(redis, jobId, { status: 'failed', error: lostEnding, retryable: true })).toBe(true);
    // The reconciler, later, with another ending: the first one stays the only one.
    expect(await endJobStream(redis, jobId, { status: 'failed', error: poisonEnding, retryable: false })).toBe(false);
    expect(await readJobStream(redis, jobId, 0)).toEqual([
      { kind: 'delta', seq: 1, text: 'Hel' },
      { kind: 'delta', seq: 2, text: 'lo' },
      { kind: 'error', seq: 3, event: { ...lostEnding, retryable: true } },
    ]);
    await redis.del(jobStreamKey(jobId));
  });
});
