import { Redis } from 'ioredis';
import { jobChannel, jobStreamAppender, readJobStream, type StreamEntry, type StreamStamps, StreamTakenError } from '@switchboard/server-core';
import { testRedisUrl } from '@switchboard/testing';
import { DeltaWriter } from './delta-writer.js';

describe('DeltaWriter on real Redis', () => {
  const redis = new Redis(testRedisUrl);
  const subscriber = new Redis(testRedisUrl);
  afterAll(async () => {
    await redis.quit();
    await subscriber.quit();
  });

  it('writes the first delta at once and batches what arrives while a write is in flight', async () => {
    const jobId = crypto.randomUUID();
    const published: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => published.push(message));
    await subscriber.subscribe(jobChannel(jobId));

    const writer = new DeltaWriter(redis, jobId, 0);
    writer.push('Hello');
    // Pushed in the same tick as the first: the first write is in flight, so these become one batch.
    writer.push(',');
    writer.push(' world');
    await writer.flush();
    writer.push('!');
    await writer.flush();

    const entries = await readJobStream(redis, jobId, 0);
    expect(entries).toEqual([
      { kind: 'delta', seq: 1, text: 'Hello' },
      { kind: 'delta', seq: 2, text: ', world' },
      { kind: 'delta', seq: 3, text: '!' },
    ]);
    expect(writer.text).toBe('Hello, world!');
    expect(writer.lastSeq).toBe(3);
    await new Promise((r) => setTimeout(r, 50));
    expect(published.map((m) => JSON.parse(m).seq)).toEqual([1, 2, 3]);
    expect(await redis.pttl(`{job:${jobId}}:deltas`)).toBeGreaterThan(0);
  });

  it('writes again what Redis lost from the end of the stream, so readers still get every seq', async () => {
    const jobId = crypto.randomUUID();
    const writer = new DeltaWriter(redis, jobId, 0);
    for (const text of ['a', 'b', 'c']) {
      writer.push(text);
      await writer.flush();
    }
    // A failover lost seq 2 and 3: the new primary's stream ends at seq 1.
    const key = `{job:${jobId}}:deltas`;
    const [[, fields]] = (await redis.xrange(key, '-', '+', 'COUNT', 1)) as [string, string[]][];
    await redis.del(key);
    await redis.xadd(key, '0-1', ...fields!);

    writer.push('d');
    await writer.flush();
    expect((await readJobStream(redis, jobId, 0)).map((e) => [e.seq, e.kind === 'delta' && e.text])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
  });

  it('goes on after a hole it cannot fill (entries of an earlier attempt), without looping', async () => {
    const jobId = crypto.randomUUID();
    // An earlier attempt wrote seq 1..5; all of it was lost with the stream.
    const writer = new DeltaWriter(redis, jobId, 5);
    writer.push('six');
    await writer.flush();
    writer.push('seven');
    await writer.flush();
    expect((await readJobStream(redis, jobId, 0)).map((e) => e.seq)).toEqual([6, 7]);
  });

  it('fails, writing nothing, when the stream is already past it (another attempt took over)', async () => {
    const jobId = crypto.randomUUID();
    const other = new DeltaWriter(redis, jobId, 0);
    other.push('x');
    other.push('y');
    await other.flush();
    const stale = new DeltaWriter(redis, jobId, 1);
    stale.push('late');
    await expect(stale.flush()).rejects.toBeInstanceOf(StreamTakenError);
    expect(stale.writeFailure).toBeInstanceOf(StreamTakenError);
    expect((await readJobStream(redis, jobId, 0)).map((e) => e.kind === 'delta' && e.text)).toEqual(['x', 'y']);
  });

  it('writes an append sent twice (ioredis resends it when the connection closed before the reply) once, published once', async () => {
    const jobId = crypto.randomUUID();
    const published: string[] = [];
    subscriber.on('message', (channel: string, message: string) => channel === jobChannel(jobId) && published.push(message));
    await subscriber.subscribe(jobChannel(jobId));
    const appender = jobStreamAppender(redis);
    const entry: StreamEntry = { kind: 'delta', seq: 1, text: 'once' };
    await appender.append(jobId, entry, 0);
    await appender.append(jobId, entry, 0);
    // The same seq with other text is another attempt's, not a resend.
    await expect(appender.append(jobId, { ...entry, text: 'twice' }, 0)).rejects.toBeInstanceOf(StreamTakenError);
    expect(await readJobStream(redis, jobId, 0)).toEqual([entry]);
    await new Promise((r) => setTimeout(r, 50));
    expect(published).toHaveLength(1);
  });

  it('continues the seq of an earlier attempt', async () => {
    const jobId = crypto.randomUUID();
    const writer = new DeltaWriter(redis, jobId, 7);
    writer.push('more');
    await writer.flush();
    expect((await readJobStream(redis, jobId, 0)).map((e) => e.seq)).toEqual([8]);
    expect(writer.nextSeq()).toBe(9);
  });

  it('stamps entries for bench:chat when asked: the first with its hops, every one with its times', async () => {
    const jobId = crypto.randomUUID();
    const writer = new DeltaWriter(redis, jobId, 0);
    writer.stamps = true;
    writer.hop = [1, 2, 3];
    writer.push('a');
    await writer.flush();
    writer.push('b');
    await writer.flush();
    const [first, second] = (await readJobStream(redis, jobId, 0)) as (StreamEntry & StreamStamps)[];
    expect(first).toMatchObject({ seq: 1, text: 'a', hop: [1, 2, 3] });
    expect(second!.hop).toBeUndefined();
    for (const e of [first!, second!]) {
      expect(e.tm![0]).toBeGreaterThan(0);
      expect(e.tm![1]).toBeGreaterThanOrEqual(e.tm![0]);
    }
  });
});
