import type { UsageRow } from '@switchboard/contracts';

/** A day as the API's `from`/`to` take it and as `groupBy=day` keys it: `YYYY-MM-DD` (UTC). */
export type Day = string;

const DAY_MS = 86_400_000;
const dayPattern = /^\d{4}-\d{2}-\d{2}$/;

export function isDay(value: string): value is Day {
  return dayPattern.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);
}

export function dayOf(date: Date): Day {
  return date.toISOString().slice(0, 10);
}

export function addDays(day: Day, n: number): Day {
  return dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS));
}

/** Every day from `from` through `to`, both included. */
export function daysBetween(from: Day, to: Day): Day[] {
  const out: Day[] = [];
  for (let d = from; d <= to && out.length <= 400; d = addDays(d, 1)) out.push(d);
  return out;
}

/** The most the API answers at once (`/v1/admin/usage`: at most 366 days). */
export const MAX_RANGE_DAYS = 366;

export type RangeProblem = 'invalid' | 'order' | 'tooLong';

/** A range the page can ask for, both days included; `to` for the API is the day after. */
export function checkRange(from: string, to: string): RangeProblem | null {
  if (!isDay(from) || !isDay(to)) return 'invalid';
  if (from > to) return 'order';
  return daysBetween(from, to).length > MAX_RANGE_DAYS ? 'tooLong' : null;
}

/** The last 30 days including today (UTC). */
export function defaultRange(now: Date): { from: Day; to: Day } {
  const to = dayOf(now);
  return { from: addDays(to, -29), to };
}

/** One day's rows of `groupBy=model` (or `group`), as the page fetches them. */
export type DayRows = { day: Day; rows: readonly UsageRow[] };

export type ChartSeries = { key: string; values: number[]; total: number; other?: true };
export type ChartData = { days: Day[]; series: ChartSeries[]; max: number };

/** The key of the bar that sums the series beyond the first `maxSeries - 1`. */
export const OTHER_KEY = '__other__';

/**
 * Stacked bars of spend (USD) per day, one series per key (model or group), largest total first.
 * Beyond `maxSeries` keys the smallest are summed into one "other" series, so colours stay
 * distinguishable. Days without rows are zero; `max` is the tallest day's stack.
 */
export function toChartData(days: readonly Day[], perDay: readonly DayRows[], maxSeries = 6): ChartData {
  const index = new Map(days.map((d, i) => [d, i]));
  const byKey = new Map<string, number[]>();
  for (const { day, rows } of perDay) {
    const i = index.get(day);
    if (i === undefined) continue;
    for (const row of rows) {
      let values = byKey.get(row.key);
      if (!values) byKey.set(row.key, (values = days.map(() => 0)));
      values[i]! += row.costUsd;
    }
  }
  let series: ChartSeries[] = [...byKey].map(([key, values]) => ({ key, values, total: sum(values) }));
  series.sort((a, b) => b.total - a.total || a.key.localeCompare(b.key));
  if (series.length > maxSeries) {
    const kept = series.slice(0, Math.max(1, maxSeries - 1));
    const rest = series.slice(kept.length);
    const values = days.map((_, i) => sum(rest.map((s) => s.values[i]!)));
    series = [...kept, { key: OTHER_KEY, values, total: sum(values), other: true }];
  }
  const max = Math.max(0, ...days.map((_, i) => sum(series.map((s) => s.values[i]!))));
  return { days: [...days], series, max };
}

/** The top spenders: highest cost first, then most tokens, then by key; at most `limit`. */
export function topSpenders(rows: readonly UsageRow[], limit = 10): UsageRow[] {
  return [...rows]
    .sort((a, b) => b.costUsd - a.costUsd || b.inputTokens + b.outputTokens - (a.inputTokens + a.outputTokens) || a.key.localeCompare(b.key))
    .slice(0, limit);
}

/** The totals of a set of rows (the table's footer, the page's summary). */
export function totals(rows: readonly UsageRow[]): { calls: number; inputTokens: number; outputTokens: number; costUsd: number } {
  return rows.reduce(
    (t, r) => ({ calls: t.calls + r.calls, inputTokens: t.inputTokens + r.inputTokens, outputTokens: t.outputTokens + r.outputTokens, costUsd: t.costUsd + r.costUsd }),
    { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
  );
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The days of a `groupBy=day` answer that had calls: only those need their per-model split fetched. */
export function activeDays(rows: readonly UsageRow[], from: Day, to: Day): Day[] {
  const days = new Set<Day>();
  for (const r of rows) {
    const day = r.key.slice(0, 10);
    if (r.calls > 0 && isDay(day) && day >= from && day <= to) days.add(day);
  }
  return [...days].sort();
}
