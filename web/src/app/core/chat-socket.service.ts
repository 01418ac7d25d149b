import { Injectable, OnDestroy, effect, inject, signal } from '@angular/core';
import type {
  Ack,
  ChatDeltaEvent,
  ChatDoneEvent,
  ChatErrorEvent,
  ChatRegenerate,
  ChatRegenerateAck,
  ChatSend,
  ChatSendAck,
  ChatStatusEvent,
} from '@switchboard/contracts';
import { Subject } from 'rxjs';
import { io, type Socket } from 'socket.io-client';
import { AuthStore } from './auth.store';

export type ChatServerEvent =
  | { type: 'status'; event: ChatStatusEvent }
  | { type: 'delta'; event: ChatDeltaEvent }
  | { type: 'done'; event: ChatDoneEvent }
  | { type: 'error'; event: ChatErrorEvent };

const ACK_TIMEOUT_MS = 15_000;

/**
 * The `/chat` Socket.IO connection. Connects lazily, reads the current token on every
 * (re)connect, and reports reconnects so a streaming answer can be resumed.
 */
@Injectable({ providedIn: 'root' })
export class ChatSocketService implements OnDestroy {
  private readonly auth = inject(AuthStore);
  private socket: Socket | null = null;
  private everConnected = false;

  readonly connected = signal(false);
  readonly events = new Subject<ChatServerEvent>();
  /** Emits after a connection was lost and came back (not on the first connect). */
  readonly reconnected = new Subject<void>();

  constructor() {
    effect(() => {
      if (!this.auth.token()) this.disconnect();
    });
  }

  connect(): void {
    if (this.socket) return;
    const socket = io('/chat', {
      auth: (cb) => cb({ token: this.auth.token() }),
      reconnectionDelayMax: 5_000,
    });
    socket.on('connect', () => {
      this.connected.set(true);
      if (this.everConnected) this.reconnected.next();
      this.everConnected = true;
    });
    socket.on('disconnect', () => this.connected.set(false));
    socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      // The server refuses the handshake with `data.code = 'unauthorized'` for a bad or expired token.
      if (err.data?.code === 'unauthorized') this.auth.expire();
    });
    socket.on('chat:status', (event: ChatStatusEvent) => this.events.next({ type: 'status', event }));
    socket.on('chat:delta', (event: ChatDeltaEvent) => this.events.next({ type: 'delta', event }));
    socket.on('chat:done', (event: ChatDoneEvent) => this.events.next({ type: 'done', event }));
    socket.on('chat:error', (event: ChatErrorEvent) => this.events.next({ type: 'error', event }));
    this.socket = socket;
  }

  disconnect(): void {
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    this.everConnected = false;
    this.connected.set(false);
  }

  /** Sends a message; one retry on an ack timeout (same clientMessageId, so the server dedupes). */
  async send(payload: ChatSend): Promise<ChatSendAck> {
    const first = await this.emit<ChatSendAck>('chat:send', payload);
    if (!first.ok && first.error.code === 'timeout') return this.emit<ChatSendAck>('chat:send', payload);
    return first;
  }

  /** A new answer to the same user message (a sibling branch); retried like send. */
  async regenerate(payload: ChatRegenerate): Promise<ChatRegenerateAck> {
    const first = await this.emit<ChatRegenerateAck>('chat:regenerate', payload);
    if (!first.ok && first.error.code === 'timeout') return this.emit<ChatRegenerateAck>('chat:regenerate', payload);
    return first;
  }

  cancel(jobId: string): Promise<Ack> {
    return this.emit<Ack>('chat:cancel', { jobId });
  }

  resume(jobId: string, afterSeq: number): Promise<Ack> {
    return this.emit<Ack>('chat:resume', { jobId, afterSeq });
  }

  private async emit<T extends Ack>(event: string, payload: unknown): Promise<T | Extract<Ack, { ok: false }>> {
    this.connect();
    try {
      return (await this.socket!.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload)) as T;
    } catch {
      return { ok: false, error: { code: 'timeout', message: 'errors.timeout' } };
    }
  }

  ngOnDestroy(): void {
    this.disconnect();
  }
}
