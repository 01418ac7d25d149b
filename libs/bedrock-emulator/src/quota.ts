/**
 * Per-model sliding-window quota, as Bedrock enforces requests/min and tokens/min.
 *
 * A request counts at the instant it is admitted. Tokens: at admission it reserves
 * `inputTokens + cacheWriteTokens + maxTokens × outputBurndown` (Bedrock reserves the max output up
 * front); when the response ends (completed, failed mid-stream or aborted) the reservation is
 * corrected to the actual `inputTokens + cacheWriteTokens + outputTokens × outputBurndown`, still
 * dated at admission. Cache reads do not count. Limits apply per window and are not scaled: with a
 * 10 s window, `requestsPerMinute: 5` means 5 requests in any 10 s.
 */

export interface ModelQuota {
  requestsPerMinute: number;
  tokensPerMinute: number;
  /** Quota tokens per output token (Bedrock's burndown rate); unset = what Bedrock does for the model id. */
  outputBurndown?: number;
}

export type QuotaDecision =
  | { ok: true; reservation: QuotaReservation }
  | { ok: false; reason: 'requests' | 'tokens' };

export interface QuotaReservation {
  /** Corrects the reserved tokens to what the request actually used. */
  settle(actualTokens: number): void;
}

interface Entry {
  at: number;
  tokens: number;
  expired: boolean;
}

interface ModelWindow {
  entries: Entry[];
  head: number;
  tokens: number;
}

export interface WindowUsage {
  requests: number;
  tokens: number;
  requestsPerMinute: number;
  tokensPerMinute: number;
}

export class QuotaTracker {
  private readonly windows = new Map<string, ModelWindow>();

  constructor(
    private windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  setWindowMs(windowMs: number): void {
    this.windowMs = windowMs;
  }

  /** Admits the request and records it, or says which limit it would exceed. */
  admit(modelId: string, quota: ModelQuota, reserveTokens: number): QuotaDecision {
    const w = this.prune(modelId);
    const live = w.entries.length - w.head;
    if (live + 1 > quota.requestsPerMinute) return { ok: false, reason: 'requests' };
    if (w.tokens + reserveTokens > quota.tokensPerMinute) return { ok: false, reason: 'tokens' };
    const entry: Entry = { at: this.now(), tokens: reserveTokens, expired: false };
    w.entries.push(entry);
    w.tokens += reserveTokens;
    return {
      ok: true,
      reservation: {
        settle: (actual: number) => {
          if (!entry.expired) w.tokens += actual - entry.tokens;
          entry.tokens = actual;
        },
      },
    };
  }

  usage(modelId: string, quota: ModelQuota): WindowUsage {
    const w = this.prune(modelId);
    return {
      requests: w.entries.length - w.head,
      tokens: w.tokens,
      requestsPerMinute: quota.requestsPerMinute,
      tokensPerMinute: quota.tokensPerMinute,
    };
  }

  models(): string[] {
    return [...this.windows.keys()];
  }

  reset(): void {
    this.windows.clear();
  }

  private prune(modelId: string): ModelWindow {
    let w = this.windows.get(modelId);
    if (!w) {
      w = { entries: [], head: 0, tokens: 0 };
      this.windows.set(modelId, w);
    }
    const cutoff = this.now() - this.windowMs;
    // Entries are in admission order, so expired ones are a prefix.
    while (w.head < w.entries.length && w.entries[w.head]!.at <= cutoff) {
      const e = w.entries[w.head++]!;
      e.expired = true;
      w.tokens -= e.tokens;
    }
    if (w.head > 1024 && w.head * 2 > w.entries.length) {
      w.entries = w.entries.slice(w.head);
      w.head = 0;
    }
    return w;
  }
}
