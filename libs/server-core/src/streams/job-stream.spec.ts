import { Redis } from 'ioredis';
import { testRedisUrl } from '@switchboard/testing';
import { appendToJobStream, jobChannel, jobStreamAppender, jobStreamKey, jobStreamTtlMs, readJobStream, StreamBehindError, StreamTakenError } from './job-stream.js';

describe('JobStreamAppender on real Redis', () => {
  const redis = new Redis(testRedisUrl);
  const subscriber = new Redis(testRedisUrl);
  afterAll(async () => {
    await redis.quit();
    await subscriber.quit();
  });

  it('writes every append of one turn (many jobs) in order, each stored and published', async () => {
    const jobs = Array.from({ length: 20 }, () => crypto.randomUUID());
    const published = new Map<string, number[]>();
    subscriber.on('message', (channel: string, message: string) => {
      const seqs = published.get(channel) ?? [];
      seqs.push((JSON.parse(message) as { seq: number }).seq);
      published.set(channel, seqs);
    });
    await subscriber.subscribe(...jobs.map(jobChannel));
    const appender = jobStreamAppender(redis);
    expect(jobStreamAppender(redis)).toBe(appender);
    // Two turns: the second starts while the first batch may still be in flight.
    await Promise.all(jobs.map((jobId, i) => appender.append(jobId, { kind: 'delta', seq: 1, text: `a${i}` })));
    const second = jobs.map((jobId, i) => appender.append(jobId, { kind: 'delta', seq: 2, text: `b${i}` }));
    const third = jobs.map((jobId, i) => appender.append(jobId, { kind: 'delta', seq: 3, text: `c${i}` }));
    await Promise.all([...second, ...third]);
    for (const [i, jobId] of jobs.entries()) {
      expect((await readJobStream(redis, jobId, 0)).map((e) => (e.kind === 'delta' ? e.text : ''))).toEqual([`a${i}`, `b${i}`, `c${i}`]);
    }
    await new Promise((r) => setTimeout(r, 50));
    for (const jobId of jobs) expect(published.get(jobChannel(jobId))).toEqual([1, 2, 3]);
  });

  it('writes a turn of more appends than one script call carries, every one stored', async () => {
    const jobs = Array.from({ length: 300 }, () => crypto.randomUUID());
    const appender = jobStreamAppender(redis);
    await Promise.all(jobs.map((jobId, i) => appender.append(jobId, { kind: 'delta', seq: 1, text: `t${i}` }, 0)));
    for (const [i, jobId] of jobs.entries()) expect(await readJobStream(redis, jobId, 0)).toEqual([{ kind: 'delta', seq: 1, text: `t${i}` }]);
  });

  it('rejects the append that Redis refuses and still writes the others of its batch', async () => {
    const jobId = crypto.randomUUID();
    const appender = jobStreamAppender(redis);
    await appender.append(jobId, { kind: 'delta', seq: 5, text: 'five' });
    const other = crypto.randomUUID();
    // seq 4 after 5: XADD refuses an id lower than the stream's last.
    const results = await Promise.allSettled([appender.append(jobId, { kind: 'delta', seq: 4, text: 'four' }), appender.append(other, { kind: 'delta', seq: 1, text: 'one' })]);
    expect(results[0].status).toBe('rejected');
    expect(results[1].status).toBe('fulfilled');
    expect((await readJobStream(redis, other, 0)).map((e) => e.seq)).toEqual([1]);
  });

  it('lets appends linger to share a write, and sends an urgent one (an answer’s first) at once with what waits', async () => {
    const own = new Redis(testRedisUrl);
    try {
      await own.ping();
      const writes: string[] = [];
      const socketWrite = own.stream.write.bind(own.stream);
      own.stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => (writes.push(String(chunk)), socketWrite(chunk, ...rest))) as typeof own.stream.write;
      const appender = jobStreamAppender(own, 60_000);
      const [a, b, c] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
      const lingering = [appender.append(a, { kind: 'delta', seq: 1, text: 'a' }, 0)];
      await new Promise((r) => setImmediate(r));
      lingering.push(appender.append(b, { kind: 'delta', seq: 1, text: 'b' }, 0));
      await new Promise((r) => setTimeout(r, 20));
      // Two turns later nothing went out: both wait for company (for up to a minute here).
      expect(writes).toEqual([]);
      expect(await readJobStream(redis, a, 0)).toEqual([]);
      await appender.append(c, { kind: 'delta', seq: 1, text: 'c' }, 0, true);
      await Promise.all(lingering);
      expect(writes).toHaveLength(1);
      for (const [jobId, text] of [[a, 'a'], [b, 'b'], [c, 'c']] as const) expect(await readJobStream(redis, jobId, 0)).toEqual([{ kind: 'delta', seq: 1, text }]);
    } finally {
      own.disconnect();
    }
  });

  it('sets the stream’s TTL at its start, renews it every 32nd seq and with the ending, not with every delta', async () => {
    const jobId = crypto.randomUUID();
    const key = jobStreamKey(jobId);
    const appender = jobStreamAppender(redis);
    const delta = (seq: number) => appender.append(jobId, { kind: 'delta', seq, text: `t${seq}` }, seq - 1);
    const ttlAfter = async (write: () => Promise<unknown>) => {
      await redis.pexpire(key, 100_000); // a mark: an append that renews the TTL sets it back to an hour
      await write();
      return redis.pttl(key);
    };
    await delta(1);
    expect(await redis.pttl(key)).toBeGreaterThan(jobStreamTtlMs - 60_000);
    for (let seq = 2; seq <= 32; seq++) expect(await ttlAfter(() => delta(seq))).toBeLessThanOrEqual(100_000);
    expect(await ttlAfter(() => delta(33))).toBeGreaterThan(jobStreamTtlMs - 60_000);
    expect(await ttlAfter(() => delta(34))).toBeLessThanOrEqual(100_000);
    const ending = { kind: 'error' as const, seq: 35, event: { code: 'model_error', message: 'stopped', retryable: false } };
    expect(await ttlAfter(() => appendToJobStream(redis, jobId, ending))).toBeGreaterThan(jobStreamTtlMs - 60_000);
  });

  it('checks where a stream ends by its length, and by its last entry when a gap makes the length mislead', async () => {
    const appender = jobStreamAppender(redis);
    const delta = (seq: number, text = `t${seq}`) => ({ kind: 'delta' as const, seq, text });
    // No gap: the length is the last seq.
    const plain = crypto.randomUUID();
    await appender.append(plain, delta(1), 0);
    await appender.append(plain, delta(2), 1);
    await expect(appender.append(plain, delta(4), 3)).rejects.toBeInstanceOf(StreamBehindError);
    await expect(appender.append(plain, delta(2, 'other'), 1)).rejects.toBeInstanceOf(StreamTakenError);
    // Entries 2 and 3 lost, then 4 written on: two entries, ending at seq 4. A writer that expects
    // the stream to end at 2 (its length) is behind the top, not at it.
    const gapped = crypto.randomUUID();
    await appender.append(gapped, delta(1), 0);
    await appender.append(gapped, delta(4));
    await expect(appender.append(gapped, delta(3), 2)).rejects.toBeInstanceOf(StreamTakenError);
    // The top itself sent again over the same gap is a resend: done, nothing repeated.
    const resent = crypto.randomUUID();
    await appender.append(resent, delta(1), 0);
    await appender.append(resent, delta(3));
    await appender.append(resent, delta(3), 2);
    await expect(appender.append(resent, delta(3, 'other'), 2)).rejects.toBeInstanceOf(StreamTakenError);
    expect((await readJobStream(redis, plain, 0)).map((e) => e.seq)).toEqual([1, 2]);
    expect((await readJobStream(redis, gapped, 0)).map((e) => e.seq)).toEqual([1, 4]);
    expect((await readJobStream(redis, resent, 0)).map((e) => e.seq)).toEqual([1, 3]);
  });
});
