import { DestroyRef, Injectable, computed, inject, signal } from '@angular/core';
import type { Job, SummarizeRequest } from '@switchboard/contracts';
import { ApiService } from '../../core/api.service';
import { errorKey, toUiError } from '../../core/errors';

export const POLL_MS = 1000;
const LABELS_KEY = 'sb.jobLabels';
const MAX_LABELS = 200;

export const isLive = (j: Job): boolean => j.status === 'queued' || j.status === 'active';

/**
 * The user's summarize jobs, newest first. Polls the jobs that are still queued or active (one
 * GET per live job every second) and stops when none are left or the page goes away.
 */
@Injectable()
export class JobsStore {
  private readonly api = inject(ApiService);

  readonly items = signal<Job[]>([]);
  readonly nextCursor = signal<string | null>(null);
  readonly loading = signal(false);
  readonly error = signal<string | null>(null);
  /** Labels the portal gave its own submissions (the API does not echo inputs back). */
  readonly labels = signal<Record<string, string>>(readLabels());
  readonly live = computed(() => this.items().some(isLive));
  private timer: ReturnType<typeof setTimeout> | undefined;
  private destroyed = false;

  constructor() {
    inject(DestroyRef).onDestroy(() => {
      this.destroyed = true;
      clearTimeout(this.timer);
    });
  }

  async load(): Promise<void> {
    this.loading.set(true);
    try {
      const page = await this.api.listJobs({ limit: 20 });
      this.items.set(page.items);
      this.nextCursor.set(page.nextCursor);
      this.error.set(null);
    } catch (err) {
      this.error.set(errorKey(toUiError(err)));
    } finally {
      this.loading.set(false);
    }
    this.schedule();
  }

  async loadMore(): Promise<void> {
    const cursor = this.nextCursor();
    if (!cursor || this.loading()) return;
    this.loading.set(true);
    try {
      const page = await this.api.listJobs({ limit: 20, cursor });
      const known = new Set(this.items().map((j) => j.id));
      this.items.update((items) => [...items, ...page.items.filter((j) => !known.has(j.id))]);
      this.nextCursor.set(page.nextCursor);
    } catch (err) {
      this.error.set(errorKey(toUiError(err)));
    } finally {
      this.loading.set(false);
    }
  }

  async submit(body: SummarizeRequest, idempotencyKey: string, label: string): Promise<Job> {
    const job = await this.api.submitSummarize(body, idempotencyKey);
    this.remember(job.id, label);
    // The same key returns the same job: never list it twice.
    this.items.update((items) => [job, ...items.filter((j) => j.id !== job.id)]);
    this.schedule();
    return job;
  }

  async cancel(id: string): Promise<void> {
    try {
      this.replace(await this.api.cancelJob(id));
    } finally {
      // A 409 means it ended meanwhile: show how it ended.
      await this.refresh(id).catch(() => undefined);
      this.schedule();
    }
  }

  async refresh(id: string): Promise<void> {
    this.replace(await this.api.getJob(id));
  }

  private replace(job: Job): void {
    this.items.update((items) => items.map((j) => (j.id === job.id ? job : j)));
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.destroyed || !this.live()) return;
    this.timer = setTimeout(() => void this.poll(), POLL_MS);
  }

  private async poll(): Promise<void> {
    const live = this.items().filter(isLive);
    await Promise.all(live.map((j) => this.refresh(j.id).catch(() => undefined)));
    this.schedule();
  }

  private remember(id: string, label: string): void {
    const entries = Object.entries({ ...this.labels(), [id]: label }).slice(-MAX_LABELS);
    const next = Object.fromEntries(entries);
    this.labels.set(next);
    try {
      localStorage.setItem(LABELS_KEY, JSON.stringify(next));
    } catch {
      // Storage full or blocked: labels are a convenience only.
    }
  }
}

function readLabels(): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(LABELS_KEY) ?? '{}');
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}
