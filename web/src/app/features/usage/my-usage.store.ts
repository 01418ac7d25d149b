import { Injectable, computed, effect, inject, signal, untracked } from '@angular/core';
import type { MeUsage } from '@switchboard/contracts';
import { AuthStore } from '../../core/auth.store';
import { ChatSocketService } from '../../core/chat-socket.service';
import { UsageApiService } from '../../core/usage-api.service';
import { tightestBudget } from './budget-meter';

/** After an answer ends the worker settles its cost: read the spend a moment later. */
const AFTER_ANSWER_MS = 800;

/**
 * The signed-in user's spend this month and the budgets that apply (`GET /v1/me/usage`), for the
 * header. Read at sign-in, when the user menu opens, and after each answer ends; nothing polls.
 */
@Injectable({ providedIn: 'root' })
export class MyUsageStore {
  private readonly api = inject(UsageApiService);
  private readonly auth = inject(AuthStore);

  readonly usage = signal<MeUsage | null>(null);
  /** The budget closest to its limit (what the header's bar shows). */
  readonly tightest = computed(() => tightestBudget(this.usage()));
  private inFlight: Promise<void> | null = null;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    effect(() => {
      const signedIn = this.auth.signedIn() && this.auth.me() !== null;
      untracked(() => (signedIn ? void this.refresh() : this.usage.set(null)));
    });
    inject(ChatSocketService).events.subscribe((e) => {
      if (e.type !== 'done' && !(e.type === 'error' && e.event.code === 'budget_exceeded')) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.refresh(), AFTER_ANSWER_MS);
    });
  }

  /** One request at a time; a refresh asked for meanwhile runs once after it. */
  refresh(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.load().finally(() => {
      this.inFlight = null;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.inFlight;
  }

  private async load(): Promise<void> {
    if (!this.auth.signedIn()) return;
    try {
      this.usage.set(await this.api.meUsage());
    } catch {
      // An older API without /v1/me/usage, or a passing failure: the header shows no bar.
    }
  }
}
