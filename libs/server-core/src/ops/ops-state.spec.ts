import { Redis } from 'ioredis';
import { testRedisUrl } from '@switchboard/testing';
import { opsFlushMs, opsRecorder, readMinutes, readTtft } from './ops-state.js';

describe('OpsRecorder on real Redis', () => {
  const redis = new Redis(testRedisUrl);
  afterAll(() => redis.quit());
  const prefix = () => `{ops-test-${crypto.randomUUID()}}`;
  /** This and the last minute (a test may cross a minute's end). */
  const counted = async (p: string, model: string) => {
    const minutes = await readMinutes(redis, p, model, 2);
    const sum = (f: 'requests' | 'tokens' | 'throttles' | 'deferrals') => minutes.reduce((n, m) => n + m[f], 0);
    return { requests: sum('requests'), tokens: sum('tokens'), throttles: sum('throttles'), deferrals: sum('deferrals') };
  };

  it('gathers counts and TTFT samples in the process and writes them together on flush', async () => {
    const [a, b] = [prefix(), prefix()];
    const recorder = opsRecorder(redis);
    expect(opsRecorder(redis)).toBe(recorder);
    recorder.count(a, 'm1', 'requests');
    recorder.count(a, 'm1', 'requests');
    recorder.count(a, 'm1', 'tokens', 120.4);
    recorder.count(a, 'm1', 'tokens', 0); // nothing to add
    recorder.count(b, 'm1', 'throttles');
    recorder.ttft(a, 'm1', 'job-1', 41);
    recorder.ttft(a, 'm1', 'job-2', 90);
    expect((await counted(a, 'm1')).requests).toBe(0); // not written yet
    await recorder.flush();
    expect(await counted(a, 'm1')).toEqual({ requests: 2, tokens: 120, throttles: 0, deferrals: 0 });
    expect((await counted(b, 'm1')).throttles).toBe(1); // each prefix its own keys
    expect(await readTtft(redis, a, 'm1')).toEqual({ p50Ms: 41, p95Ms: 90, samples: 2 });
    await recorder.flush(); // nothing gathered since: writes nothing, counts stay
    expect((await counted(a, 'm1')).requests).toBe(2);
  });

  it('writes by itself within opsFlushMs', async () => {
    const p = prefix();
    opsRecorder(redis).count(p, 'm2', 'deferrals', 3);
    await new Promise((r) => setTimeout(r, opsFlushMs + 300));
    expect((await counted(p, 'm2')).deferrals).toBe(3);
  });
});
