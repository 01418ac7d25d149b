import { Injectable, OnDestroy, computed, effect, inject, signal } from '@angular/core';
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
  ConversationUpdatedEvent,
} from '@switchboard/contracts';
import { chatClientEvents, chatNamespace, chatServerEvents } from '@switchboard/contracts/constants';
import { Subject } from 'rxjs';
import { io, type Socket } from 'socket.io-client';
import { AuthStore } from './auth.store';

export type ChatServerEvent =
  | { type: 'status'; event: ChatStatusEvent }
  | { type: 'delta'; event: ChatDeltaEvent }
  | { type: 'done'; event: ChatDoneEvent }
  | { type: 'error'; event: ChatErrorEvent };

/** `offline`: the browser has no network; `reconnecting`: the connection was lost and is being retried. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

const ACK_TIMEOUT_MS = 15_000;

/**
 * The `/chat` Socket.IO connection. Connects lazily, reads the current token on every
 * (re)connect, renews it when the server refuses it, and reports reconnects so a streaming answer
 * can be resumed. Sends wait for a connection instead of failing while offline.
 */
@Injectable({ providedIn: 'root' })
export class ChatSocketService implements OnDestroy {
  private readonly auth = inject(AuthStore);
  private socket: Socket | null = null;
  private everConnected = false;
  private readonly online = signal(typeof navigator === 'undefined' ? true : navigator.onLine);
  private waiters: (() => void)[] = [];
  private readonly onOnline = () => {
    this.online.set(true);
    this.socket?.connect();
  };
  private readonly onOffline = () => {
    this.online.set(false);
    // Do not wait for a ping timeout: the connection is gone, say so and resume when back.
    this.socket?.disconnect();
  };

  readonly connected = signal(false);
  /** What the page shows about the connection (nothing while connected). */
  readonly state = computed<ConnectionState>(() => {
    if (this.connected()) return 'connected';
    if (!this.online()) return 'offline';
    return this.everConnectedSignal() ? 'reconnecting' : 'connecting';
  });
  private readonly everConnectedSignal = signal(false);
  readonly events = new Subject<ChatServerEvent>();
  /** `conversation:updated`: something changed in another tab (or by the server, e.g. a title). */
  readonly conversationUpdates = new Subject<ConversationUpdatedEvent>();
  /** Emits after a connection was lost and came back (not on the first connect). */
  readonly reconnected = new Subject<void>();

  constructor() {
    effect(() => {
      if (!this.auth.token()) this.disconnect();
    });
    addEventListener('online', this.onOnline);
    addEventListener('offline', this.onOffline);
  }

  connect(): void {
    if (this.socket) return;
    const socket = io(chatNamespace, {
      auth: (cb) => cb({ token: this.auth.token() }),
      reconnectionDelayMax: 5_000,
      autoConnect: this.online(),
    });
    socket.on('connect', () => {
      this.connected.set(true);
      if (this.everConnected) this.reconnected.next();
      this.everConnected = true;
      this.everConnectedSignal.set(true);
      const waiting = this.waiters;
      this.waiters = [];
      waiting.forEach((w) => w());
    });
    socket.on('disconnect', (reason) => {
      this.connected.set(false);
      // The server cut the socket (e.g. the token expired): renew and come back; Socket.IO does
      // not reconnect by itself after a server-side disconnect.
      if (reason === 'io server disconnect') void this.renewAndReconnect();
    });
    socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      // The server refuses the handshake with `data.code = 'unauthorized'` for a bad or expired token.
      if (err.data?.code === 'unauthorized') void this.renewAndReconnect(true);
    });
    socket.on(chatServerEvents.status, (event: ChatStatusEvent) => this.events.next({ type: 'status', event }));
    socket.on(chatServerEvents.delta, (event: ChatDeltaEvent) => this.events.next({ type: 'delta', event }));
    socket.on(chatServerEvents.done, (event: ChatDoneEvent) => this.events.next({ type: 'done', event }));
    socket.on(chatServerEvents.error, (event: ChatErrorEvent) => this.events.next({ type: 'error', event }));
    socket.on(chatServerEvents.conversationUpdated, (event: ConversationUpdatedEvent) => this.conversationUpdates.next(event));
    this.socket = socket;
  }

  disconnect(): void {
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    this.everConnected = false;
    this.everConnectedSignal.set(false);
    this.connected.set(false);
  }

  /** Sends a message; one retry on an ack timeout (same clientMessageId, so the server dedupes). */
  async send(payload: ChatSend): Promise<ChatSendAck> {
    await this.whenConnected();
    const first = await this.emit<ChatSendAck>(chatClientEvents.send, payload);
    if (!first.ok && first.error.code === 'timeout') return this.emit<ChatSendAck>(chatClientEvents.send, payload);
    return first;
  }

  /** A new answer to the same user message (a sibling branch); retried like send. */
  async regenerate(payload: ChatRegenerate): Promise<ChatRegenerateAck> {
    await this.whenConnected();
    const first = await this.emit<ChatRegenerateAck>(chatClientEvents.regenerate, payload);
    if (!first.ok && first.error.code === 'timeout') return this.emit<ChatRegenerateAck>(chatClientEvents.regenerate, payload);
    return first;
  }

  cancel(jobId: string): Promise<Ack> {
    return this.emit<Ack>(chatClientEvents.cancel, { jobId });
  }

  resume(jobId: string, afterSeq: number): Promise<Ack> {
    return this.emit<Ack>(chatClientEvents.resume, { jobId, afterSeq });
  }

  /** Resolves once connected (at once when connected); a send while offline waits here. */
  whenConnected(): Promise<void> {
    this.connect();
    if (this.connected()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private async renewAndReconnect(refused = false): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    const renewed = await this.auth.renew();
    if (this.socket !== socket) return;
    if (!renewed) {
      if (refused) this.auth.expire();
      return;
    }
    if (!socket.connected) socket.connect();
  }

  private async emit<T extends Ack>(event: string, payload: unknown, retried = false): Promise<T | Extract<Ack, { ok: false }>> {
    this.connect();
    let ack: T | Extract<Ack, { ok: false }>;
    try {
      ack = (await this.socket!.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload)) as T;
    } catch {
      return { ok: false, error: { code: 'timeout', message: 'errors.timeout' } };
    }
    // The token expired mid-session: the server refuses the event (and cuts the socket). Renew,
    // wait for the new connection and send the same event once more (sends are idempotent by clientMessageId).
    if (!ack.ok && ack.error.code === 'unauthorized' && !retried) {
      if (await this.auth.renew()) {
        if (this.socket && !this.socket.connected) this.socket.connect();
        await this.whenConnected();
        return this.emit<T>(event, payload, true);
      }
    }
    return ack;
  }

  ngOnDestroy(): void {
    removeEventListener('online', this.onOnline);
    removeEventListener('offline', this.onOffline);
    this.disconnect();
  }
}
