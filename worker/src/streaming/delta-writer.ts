import type { RedisClient as Redis } from '@switchboard/server-core';
import { jobStreamAppender, StreamBehindError, stampNow, type StreamEntry } from '@switchboard/server-core';

/** Entries a writer keeps to append again after Redis lost them (DeltaWriter.sent). */
const resendableEntries = 256;

/**
 * Coalesces model deltas into the job's stream without delaying a quiet stream: a delta is
 * written at once when no write is in flight; what arrives meanwhile goes out as one batch when
 * that write returns. Each batch is one seq (XADD + PUBLISH in one round trip); the batches of all
 * answers appended in one turn of the event loop share a socket write (JobStreamAppender).
 */
export class DeltaWriter {
  /** Text pushed during this attempt (written or pending). */
  text = '';
  /** Thinking pushed during this attempt (written or pending). */
  reasoning = '';
  private pending = '';
  private pendingReasoning = '';
  private inFlight: Promise<void> | null = null;
  /**
   * The last entries this writer appended, to write again if Redis loses them (see appendInOrder).
   * Bounded: a failover loses what was not replicated yet, milliseconds of output, and a whole
   * answer kept per stream would cost a worker holding hundreds of streams megabytes each.
   */
  private readonly sent: StreamEntry[] = [];
  private failure: Error | null = null;
  /** When the first pending text came from Bedrock (a benchmark stamp, see StreamStamps). */
  private pendingSince = 0;
  /** Adds the benchmark's timing stamps to each entry (StreamStamps; off unless asked). */
  stamps = false;
  /** Stamps for the first entry this writer appends: enqueued, picked up, request sent. */
  hop: [number, number, number] | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly jobId: string,
    private seq: number,
  ) {}

  /** Why writing to the job's stream failed (Redis, not the model), once it did. */
  get writeFailure(): Error | null {
    return this.failure;
  }

  get lastSeq(): number {
    return this.seq;
  }

  push(text: string): void {
    if (this.failure) throw this.failure;
    if (!text) return;
    this.text += text;
    if (this.stamps && !this.pending && !this.pendingReasoning) this.pendingSince = stampNow();
    this.pending += text;
    if (!this.inFlight) this.writePending();
  }

  /** Thinking deltas share the seq sequence with text (a batch may carry both). */
  pushReasoning(text: string): void {
    if (this.failure) throw this.failure;
    if (!text) return;
    this.reasoning += text;
    if (this.stamps && !this.pending && !this.pendingReasoning) this.pendingSince = stampNow();
    this.pendingReasoning += text;
    if (!this.inFlight) this.writePending();
  }

  /** Resolves once everything pushed is in Redis. */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.failure) throw this.failure;
  }

  /** The seq to use for the terminal entry. */
  nextSeq(): number {
    return ++this.seq;
  }

  private writePending() {
    const text = this.pending;
    const reasoning = this.pendingReasoning;
    this.pending = '';
    this.pendingReasoning = '';
    const seq = ++this.seq;
    const hop = this.hop;
    this.hop = undefined;
    // Every 8th batch (seq 8, 16, …) carries its append time, so the API samples delta latency (append → socket) cheaply.
    const entry: StreamEntry = {
      kind: 'delta',
      seq,
      text,
      ...(reasoning ? { reasoning } : {}),
      ...(seq % 8 === 0 ? { at: Date.now() } : {}),
      ...(this.stamps ? { tm: [this.pendingSince, stampNow()] as [number, number], ...(hop ? { hop } : {}) } : {}),
    };
    // The first entry (nothing sent yet: a write starts only when the one before succeeded) goes out
    // at once; later ones may linger to share a Redis write (JobStreamAppender).
    const urgent = this.sent.length === 0;
    this.inFlight = this.appendInOrder(entry, urgent).then(
      () => {
        this.inFlight = null;
        if ((this.pending || this.pendingReasoning) && !this.failure) this.writePending();
      },
      (err: Error) => {
        this.failure = err;
        this.inFlight = null;
      },
    );
  }

  /**
   * Appends right after the stream's last entry. A stream that ends lower lost entries (a Redis
   * primary failed before its replica had them): this writer writes them again from what it sent,
   * so readers still get every seq. Entries it no longer holds (an earlier attempt's, or more
   * than the last `resendableEntries`) stay lost, and the entry goes after the hole (the relay
   * skips it; the final event has the whole answer).
   */
  private async appendInOrder(entry: StreamEntry, urgent: boolean): Promise<void> {
    const appender = jobStreamAppender(this.redis);
    try {
      await appender.append(this.jobId, entry, entry.seq - 1, urgent);
    } catch (err) {
      if (!(err instanceof StreamBehindError)) throw err;
      const again = [...this.sent.filter((e) => e.seq > err.lastSeq), entry];
      const fills = again[0]!.seq === err.lastSeq + 1;
      for (const e of again) await appender.append(this.jobId, e, fills ? e.seq - 1 : undefined, true);
    }
    if (this.sent.push(entry) > resendableEntries) this.sent.shift();
  }
}
