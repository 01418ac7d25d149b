import type { Socket } from 'socket.io';

/**
 * Disconnects sockets when their token expires, with one timer for the whole process: sockets are
 * kept in one-second buckets by expiry (a timer wheel), and one interval empties the buckets that
 * are due. 10,000 idle sockets cost 10,000 set entries, not 10,000 timers.
 */
export class SocketExpiry {
  private readonly buckets = new Map<number, Set<Socket>>();
  private readonly slotOf = new WeakMap<Socket, number>();
  private cursor: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly onExpired: (socket: Socket) => void,
    private readonly resolutionMs = 1000,
  ) {
    this.cursor = this.slot(Date.now());
  }

  track(socket: Socket, expiresAt: number): void {
    this.untrack(socket);
    // Rounded up: a socket is never cut before its token's exp.
    const slot = Math.max(Math.ceil(expiresAt / this.resolutionMs), this.cursor + 1);
    let bucket = this.buckets.get(slot);
    if (!bucket) this.buckets.set(slot, (bucket = new Set()));
    bucket.add(socket);
    this.slotOf.set(socket, slot);
    this.timer ??= setInterval(() => this.tick(), this.resolutionMs).unref();
  }

  untrack(socket: Socket): void {
    const slot = this.slotOf.get(socket);
    if (slot === undefined) return;
    this.slotOf.delete(socket);
    const bucket = this.buckets.get(slot);
    bucket?.delete(socket);
    if (bucket?.size === 0) this.buckets.delete(slot);
  }

  get size(): number {
    let n = 0;
    for (const bucket of this.buckets.values()) n += bucket.size;
    return n;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.buckets.clear();
  }

  private tick(): void {
    const now = this.slot(Date.now());
    for (; this.cursor < now; ) {
      this.cursor++;
      const bucket = this.buckets.get(this.cursor);
      if (!bucket) continue;
      this.buckets.delete(this.cursor);
      for (const socket of bucket) {
        this.slotOf.delete(socket);
        this.onExpired(socket);
      }
    }
  }

  private slot(ms: number): number {
    return Math.floor(ms / this.resolutionMs);
  }
}
