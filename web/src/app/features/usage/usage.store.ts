import { Injectable, computed, inject, signal } from '@angular/core';
import type { UsageGroupBy, UsageRow } from '@switchboard/contracts';
import { errorKey, toUiError } from '../../core/errors';
import { UsageApiService, type UsageQuery } from '../../core/usage-api.service';
import { type Day, type DayRows, activeDays, addDays, daysBetween, toChartData, topSpenders, totals } from './usage-series';

export type ChartBy = Extract<UsageGroupBy, 'model' | 'group'>;
export type TableBy = Exclude<UsageGroupBy, 'day'>;

/** At most this many per-day requests at once (the chart's split by model or group). */
const PARALLEL = 4;

/**
 * The Usage page's data for a range of days (both included): totals per day, spend per day split
 * by model or group (one `groupBy` request per day that had calls: the API groups by one key at a
 * time), and the top spenders by user, group, client or model.
 */
@Injectable()
export class UsageStore {
  private readonly api = inject(UsageApiService);

  readonly range = signal<{ from: Day; to: Day } | null>(null);
  readonly chartBy = signal<ChartBy>('model');
  readonly tableBy = signal<TableBy>('user');

  readonly dayRows = signal<UsageRow[]>([]);
  readonly split = signal<DayRows[]>([]);
  readonly tableRows = signal<UsageRow[]>([]);
  readonly loading = signal(false);
  readonly error = signal<string | null>(null);
  /** For the list-status component: the page has data once the day totals arrived. */
  readonly items = computed(() => this.dayRows());

  readonly days = computed(() => {
    const r = this.range();
    return r ? daysBetween(r.from, r.to) : [];
  });
  readonly chart = computed(() => toChartData(this.days(), this.split()));
  readonly top = computed(() => topSpenders(this.tableRows(), 10));
  readonly total = computed(() => totals(this.dayRows()));
  private generation = 0;

  /** Loads everything for the range; a newer call makes older answers be dropped. */
  async load(): Promise<void> {
    const r = this.range();
    if (!r) return;
    const gen = ++this.generation;
    this.loading.set(true);
    this.error.set(null);
    try {
      const q = (groupBy: UsageGroupBy, from = r.from, to = addDays(r.to, 1)): UsageQuery => ({ from, to, groupBy });
      const [perDay, table] = await Promise.all([this.api.adminUsage(q('day')), this.api.adminUsage(q(this.tableBy()))]);
      if (gen !== this.generation) return;
      this.dayRows.set(perDay.rows);
      this.tableRows.set(table.rows);
      const split = await this.fetchSplit(activeDays(perDay.rows, r.from, r.to), this.chartBy());
      if (gen !== this.generation) return;
      this.split.set(split);
    } catch (err) {
      if (gen === this.generation) this.error.set(errorKey(toUiError(err)));
    } finally {
      if (gen === this.generation) this.loading.set(false);
    }
  }

  async loadChart(): Promise<void> {
    const r = this.range();
    if (!r) return;
    const gen = ++this.generation;
    this.loading.set(true);
    try {
      const split = await this.fetchSplit(activeDays(this.dayRows(), r.from, r.to), this.chartBy());
      if (gen === this.generation) this.split.set(split);
    } catch (err) {
      if (gen === this.generation) this.error.set(errorKey(toUiError(err)));
    } finally {
      if (gen === this.generation) this.loading.set(false);
    }
  }

  async loadTable(): Promise<void> {
    const r = this.range();
    if (!r) return;
    try {
      const res = await this.api.adminUsage({ from: r.from, to: addDays(r.to, 1), groupBy: this.tableBy() });
      this.tableRows.set(res.rows);
    } catch (err) {
      this.error.set(errorKey(toUiError(err)));
    }
  }

  /** The table's rows as CSV, from the API. */
  csv(): Promise<string> {
    const r = this.range()!;
    return this.api.adminUsageCsv({ from: r.from, to: addDays(r.to, 1), groupBy: this.tableBy() });
  }

  private async fetchSplit(days: Day[], by: ChartBy): Promise<DayRows[]> {
    const out: DayRows[] = [];
    const queue = [...days];
    const worker = async () => {
      for (let day = queue.shift(); day; day = queue.shift()) {
        const res = await this.api.adminUsage({ from: day, to: addDays(day, 1), groupBy: by });
        out.push({ day, rows: res.rows });
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, days.length) }, worker));
    return out;
  }
}
