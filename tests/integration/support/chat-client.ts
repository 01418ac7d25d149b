import { io, type Socket } from 'socket.io-client';
import type {
  ChatDeltaEvent,
  ChatDoneEvent,
  ChatErrorEvent,
  ChatSend,
  ChatSendAck,
  ChatStatusEvent,
} from '@switchboard/contracts';

/** A real Socket.IO client on /chat that records every server event by job. */
export class ChatClient {
  readonly socket: Socket;
  readonly deltas = new Map<string, ChatDeltaEvent[]>();
  readonly statuses = new Map<string, ChatStatusEvent[]>();
  readonly done = new Map<string, ChatDoneEvent>();
  readonly errors = new Map<string, ChatErrorEvent>();
  private readonly waiters: (() => void)[] = [];

  private constructor(url: string, token: string | undefined, opts: { reconnection?: boolean } = {}) {
    this.socket = io(`${url}/chat`, {
      auth: token === undefined ? {} : { token },
      transports: ['websocket'],
      reconnection: opts.reconnection ?? false,
      forceNew: true,
    });
    this.socket.on('chat:delta', (e: ChatDeltaEvent) => this.push(this.deltas, e.jobId, e));
    this.socket.on('chat:status', (e: ChatStatusEvent) => this.push(this.statuses, e.jobId, e));
    this.socket.on('chat:done', (e: ChatDoneEvent) => this.set(this.done, e));
    this.socket.on('chat:error', (e: ChatErrorEvent) => this.set(this.errors, e));
  }

  static async connect(url: string, token: string | undefined): Promise<ChatClient> {
    const client = new ChatClient(url, token);
    await new Promise<void>((resolve, reject) => {
      client.socket.once('connect', () => resolve());
      client.socket.once('connect_error', (err) => reject(err));
    });
    return client;
  }

  /** Connects and returns the handshake error, for auth tests. */
  static async connectError(url: string, token: string | undefined): Promise<Error & { data?: unknown }> {
    const client = new ChatClient(url, token);
    return new Promise((resolve, reject) => {
      client.socket.once('connect', () => {
        client.close();
        reject(new Error('connected without a valid token'));
      });
      client.socket.once('connect_error', (err) => {
        client.close();
        resolve(err);
      });
    });
  }

  send(payload: ChatSend | unknown): Promise<ChatSendAck> {
    return this.socket.timeout(10_000).emitWithAck('chat:send', payload);
  }

  emit<T = { ok: boolean; error?: { code: string; message: string } }>(event: string, payload: unknown): Promise<T> {
    return this.socket.timeout(10_000).emitWithAck(event, payload);
  }

  text(jobId: string): string {
    return (this.deltas.get(jobId) ?? []).map((d) => d.text).join('');
  }

  seqs(jobId: string): number[] {
    return (this.deltas.get(jobId) ?? []).map((d) => d.seq);
  }

  /** Resolves when the predicate holds, re-checked on every event. */
  waitFor(predicate: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.splice(this.waiters.indexOf(check), 1);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  waitForEnd(jobId: string, timeoutMs?: number) {
    return this.waitFor(() => this.done.has(jobId) || this.errors.has(jobId), timeoutMs, `the end of job ${jobId}`);
  }

  close() {
    this.socket.close();
  }

  private push<T>(map: Map<string, T[]>, jobId: string, value: T) {
    const list = map.get(jobId) ?? [];
    list.push(value);
    map.set(jobId, list);
    this.notify();
  }

  private set<T extends { jobId: string }>(map: Map<string, T>, value: T) {
    map.set(value.jobId, value);
    this.notify();
  }

  private notify() {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
