/**
 * Puts one streamed answer's deltas back in order. Socket.IO delivers in order on one connection,
 * but a resume after a reconnect replays from the server's stream, so deltas can come twice, late
 * or after a gap. Pure (no Angular): the answer tracker feeds it and applies what it returns.
 */
export type AnswerDelta = { seq: number; text: string; reasoning?: string };

/** What one delta changed: text and reasoning to append now, and where to resume from after a gap. */
export type AnswerStep = {
  text: string;
  reasoning: string;
  /** At least one delta was appended (the answer is streaming). */
  advanced: boolean;
  /** A gap: ask the server to replay the deltas after this seq (null: nothing to ask). */
  resumeAfter: number | null;
};

const nothing: AnswerStep = { text: '', reasoning: '', advanced: false, resumeAfter: null };

export class AnswerStream {
  private last: number;
  private readonly ahead = new Map<number, { text: string; reasoning?: string }>();
  private ended = false;
  private resumeAsked = false;

  /** `lastSeq`: the last delta already shown (0 for a fresh answer or a replay from the start). */
  constructor(lastSeq = 0) {
    this.last = lastSeq;
  }

  /** The last delta appended: a resume asks for the ones after it. */
  get lastSeq(): number {
    return this.last;
  }

  get finished(): boolean {
    return this.ended;
  }

  /** Deltas held back until the ones before them arrive. */
  get pending(): number {
    return this.ahead.size;
  }

  accept(delta: AnswerDelta): AnswerStep {
    if (this.ended || delta.seq <= this.last) return nothing;
    this.ahead.set(delta.seq, { text: delta.text, reasoning: delta.reasoning });
    let text = '';
    let reasoning = '';
    let advanced = false;
    while (this.ahead.has(this.last + 1)) {
      this.last++;
      const d = this.ahead.get(this.last)!;
      text += d.text;
      reasoning += d.reasoning ?? '';
      advanced = true;
      this.ahead.delete(this.last);
    }
    if (advanced || this.ahead.size === 0 || this.resumeAsked) return { text, reasoning, advanced, resumeAfter: null };
    // One request at a time; the replay fills the gap (its duplicates are dropped above).
    this.resumeAsked = true;
    return { text, reasoning, advanced, resumeAfter: this.last };
  }

  /** The resume request was answered (either way): a gap seen later may ask again. */
  resumeSettled(): void {
    this.resumeAsked = false;
  }

  /** The answer ended (done or error): its final text is the server's; later deltas are dropped. */
  finish(): void {
    this.ended = true;
    this.ahead.clear();
  }
}

/**
 * The text an answer ends with: the server's final text, except for an answer stopped before the
 * model wrote anything, which reports none: then what was shown stays.
 */
export function finalText(doneText: string, shown: string, cancelled: boolean): string {
  return doneText || (cancelled ? shown : doneText);
}
