import type { UsageRow } from '@switchboard/contracts';
import { OTHER_KEY, activeDays, addDays, checkRange, daysBetween, defaultRange, isDay, toChartData, topSpenders, totals } from './usage-series';

const row = (key: string, costUsd: number, extra: Partial<UsageRow> = {}): UsageRow => ({
  key, calls: 1, inputTokens: 100, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd, ...extra,
});

describe('days and ranges (UTC)', () => {
  it('knows real calendar days only', () => {
    expect(isDay('2026-11-30')).toBe(true);
    expect(isDay('2024-02-29')).toBe(true);
    expect(isDay('2026-02-29')).toBe(false);
    expect(isDay('2026-13-01')).toBe(false);
    expect(isDay('30.11.2026')).toBe(false);
    expect(isDay('')).toBe(false);
  });

  it('steps over month and year ends', () => {
    expect(addDays('2026-11-30', 1)).toBe('2026-12-01');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(daysBetween('2026-11-29', '2026-12-02')).toEqual(['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']);
    expect(daysBetween('2026-11-02', '2026-11-01')).toEqual([]);
  });

  it('defaults to the last 30 days including today', () => {
    const { from, to } = defaultRange(new Date('2026-11-30T23:59:00Z'));
    expect(to).toBe('2026-11-30');
    expect(from).toBe('2026-11-01');
    expect(daysBetween(from, to)).toHaveLength(30);
  });

  it('refuses ranges the API would refuse', () => {
    expect(checkRange('2026-11-01', '2026-11-30')).toBeNull();
    expect(checkRange('2026-11-30', '2026-11-30')).toBeNull();
    expect(checkRange('2026-11-30', '2026-11-01')).toBe('order');
    expect(checkRange('2025-01-01', '2026-11-01')).toBe('tooLong');
    expect(checkRange('2026-01-01', '2026-12-31')).toBeNull();
    expect(checkRange('nope', '2026-11-01')).toBe('invalid');
  });
});

describe('usage rows into a stacked chart', () => {
  const days = daysBetween('2026-11-01', '2026-11-03');

  it('puts each key on its own series, zero on days without rows, largest total first', () => {
    const data = toChartData(days, [
      { day: '2026-11-01', rows: [row('haiku', 0.5), row('sonnet', 2)] },
      { day: '2026-11-03', rows: [row('haiku', 1.25)] },
    ]);
    expect(data.days).toEqual(days);
    expect(data.series.map((s) => s.key)).toEqual(['sonnet', 'haiku']);
    expect(data.series[0]!.values).toEqual([2, 0, 0]);
    expect(data.series[1]!.values).toEqual([0.5, 0, 1.25]);
    expect(data.series[1]!.total).toBeCloseTo(1.75);
    expect(data.max).toBeCloseTo(2.5);
  });

  it('adds up rows of the same key on a day and ignores days outside the range', () => {
    const data = toChartData(days, [
      { day: '2026-11-02', rows: [row('a', 1), row('a', 2)] },
      { day: '2026-10-31', rows: [row('a', 100)] },
    ]);
    expect(data.series).toEqual([{ key: 'a', values: [0, 3, 0], total: 3 }]);
    expect(data.max).toBe(3);
  });

  it('sums the smallest series into "other" beyond the maximum', () => {
    const rows = ['a', 'b', 'c', 'd'].map((k, i) => row(k, 4 - i));
    const data = toChartData(days, [{ day: '2026-11-01', rows }], 3);
    expect(data.series.map((s) => s.key)).toEqual(['a', 'b', OTHER_KEY]);
    expect(data.series[2]).toMatchObject({ other: true, values: [3, 0, 0], total: 3 });
    expect(data.max).toBe(10);
  });

  it('is empty without rows', () => {
    expect(toChartData(days, [])).toEqual({ days, series: [], max: 0 });
  });

  it('fetches the split only for days that had calls, within the range', () => {
    const dayRows = [row('2026-11-02', 1), row('2026-11-01', 0, { calls: 0 }), row('2026-11-03T00:00:00.000Z', 2), row('2026-12-09', 1), row('junk', 1)];
    expect(activeDays(dayRows, '2026-11-01', '2026-11-30')).toEqual(['2026-11-02', '2026-11-03']);
  });
});

describe('top spenders', () => {
  it('sorts by cost, then tokens, then key, and keeps the first n', () => {
    const rows = [row('x', 1), row('y', 3), row('z', 1, { inputTokens: 1000 }), row('w', 1)];
    expect(topSpenders(rows, 3).map((r) => r.key)).toEqual(['y', 'z', 'w']);
    expect(topSpenders([], 5)).toEqual([]);
  });

  it('totals the rows', () => {
    expect(totals([row('a', 1), row('b', 2.5)])).toEqual({ calls: 2, inputTokens: 200, outputTokens: 100, costUsd: 3.5 });
  });
});
