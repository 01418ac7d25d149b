import { randomUUID } from 'node:crypto';
import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { type OnGatewayInit, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import {
  type Ack,
  type AckError,
  chatCancelSchema,
  chatClientEvents,
  chatNamespace,
  chatRegenerateSchema,
  type ChatRegenerateAck,
  chatResumeSchema,
  chatSendSchema,
  type ChatSendAck,
  contentLimits,
} from '@switchboard/contracts';
import { verifySocketToken } from '../auth/socket-auth.js';
import type { Principal } from '../auth/principal.js';
import { TokenVerifier } from '../auth/token-verifier.service.js';
import { AppError } from '../common/app-error.js';
import { isDependencyOutage, outageMessage } from '../common/dependency-outage.js';
import { parseOrThrow } from '../common/zod-validation.pipe.js';
import { LimitsService } from '../limits/limits.service.js';
import { RateLimitedError } from '../limits/rate-limited.error.js';
import { ChatService } from './chat.service.js';
import { JobRelayService } from './job-relay.service.js';
import { SocketExpiry } from './socket-expiry.js';
import { grantFrameAllowance, shedHandshake } from './socket-limits.js';

/** What a `/chat` socket keeps after the handshake: who it is and when its token expires (ms). */
type AuthedSocket = Socket & { data: { principal: Principal; expiresAt: number } };
type AckFn = (ack: unknown) => void;

/** Idle sockets are cut this long after `exp` (events are refused from `exp` on, exactly). */
const expirySweepSlackMs = 1000;

const expiredAck = { ok: false, error: { code: 'unauthorized', message: 'The token has expired; reconnect with a fresh one' } } as const;

/**
 * Socket.IO `/chat`. The handshake is authenticated in a connection middleware, so every
 * connection and reconnection is verified before any event; every client event gets an ack.
 * A socket lives no longer than its token: events after `exp` are refused and the socket is cut
 * (at the event, or by the shared expiry wheel when it is idle). Frames stay small until the
 * connection has authenticated (see ChatIoAdapter and grantFrameAllowance).
 *
 * Memory: an API node holds thousands of idle sockets, so nothing here is created per socket that
 * can live per node. The event listeners are plain functions made once per node (Socket.IO calls a
 * listener with the socket as `this`) instead of Nest's @SubscribeMessage, which builds rxjs
 * pipelines per socket per event; a socket keeps only its principal and `exp`.
 */
@WebSocketGateway({ namespace: chatNamespace, cors: { origin: true } })
export class ChatGateway implements OnGatewayInit, OnModuleDestroy {
  private readonly logger = new Logger(ChatGateway.name);
  private readonly expiry = new SocketExpiry((socket) => socket.disconnect(true));
  /** The `/chat` namespace (for tests and diagnostics). */
  @WebSocketServer() namespace!: Namespace;

  constructor(
    private readonly chat: ChatService,
    private readonly relay: JobRelayService,
    private readonly verifier: TokenVerifier,
    private readonly limits: LimitsService,
  ) {}

  afterInit(namespace: Namespace) {
    namespace.use((socket, next) => {
      verifySocketToken(socket, this.verifier).then(
        async ({ principal, expiresAt }) => {
          if (principal.kind === 'client') {
            return next(socketError('forbidden', 'Chat is for signed-in people; client-credentials tokens cannot connect'));
          }
          // RATE_SOCKETS_PER_USER, counted across every API node.
          if (!(await this.limits.openSocket(principal.sub, socket.id).catch(() => true))) {
            const error = socketError('rate_limited', 'Too many open connections for this user; close another tab or window');
            (error.data as { retryAfterMs?: number }).retryAfterMs = 5000;
            return next(error);
          }
          // Their first send then need not wait for Postgres to sum what they store.
          this.limits.prefetchStorage(principal.sub);
          socket.data.principal = principal;
          socket.data.expiresAt = expiresAt;
          grantFrameAllowance(socket, contentLimits.maxMessageBytes);
          // Connected only once this node follows the user's channel: a job that another node
          // announces right after the client saw `connect` (another tab sending) reaches it too.
          await this.relay.addSocket(socket, principal.sub);
          // Gone meanwhile: Socket.IO drops it without a disconnect event, so undo what it counted here.
          if (socket.conn.readyState !== 'open') {
            this.disconnected(socket as AuthedSocket);
            return next(socketError('unavailable', 'The connection closed during the handshake'));
          }
          next();
        },
        (err: AppError) => next(socketError('unauthorized', err.message)),
      );
    });

    // Made once per node; `this` inside each listener is the socket that received the event.
    const listeners = sharedListeners(
      {
        [chatClientEvents.send]: (socket, body) => this.send(socket, body),
        [chatClientEvents.regenerate]: (socket, body) => this.regenerate(socket, body),
        [chatClientEvents.cancel]: (socket, body) => this.cancel(socket, body),
        [chatClientEvents.resume]: (socket, body) => this.resume(socket, body),
      },
      (socket) => this.disconnected(socket),
      (err) => this.logger.error({ err }, 'socket ack failed'),
    );

    namespace.on('connection', (socket: AuthedSocket) => {
      shedHandshake(socket);
      socket.onAny(refuseAfterExpiry);
      for (const [event, listener] of listeners) socket.on(event, listener);
      this.expiry.track(socket, socket.data.expiresAt + expirySweepSlackMs);
    });
  }

  onModuleDestroy() {
    this.expiry.stop();
  }

  private disconnected(socket: AuthedSocket) {
    this.expiry.untrack(socket);
    // During shutdown Redis may already be closed: nothing to clean up then.
    void Promise.all([this.relay.removeSocket(socket, socket.data.principal.sub), this.limits.closeSocket(socket.data.principal.sub, socket.id)]).catch(
      (err) => this.logger.debug?.(`socket cleanup skipped: ${(err as Error).message}`),
    );
  }

  private send(socket: AuthedSocket, body: unknown): Promise<ChatSendAck> {
    const requestId = randomUUID();
    return this.handle('chat:send', requestId, async () => {
      const input = parseOrThrow(chatSendSchema, body);
      return this.chat.send(socket.data.principal.sub, input, requestId, socket.id, socket.data.principal.groups);
    });
  }

  private regenerate(socket: AuthedSocket, body: unknown): Promise<ChatRegenerateAck> {
    const requestId = randomUUID();
    return this.handle('chat:regenerate', requestId, async () => {
      const input = parseOrThrow(chatRegenerateSchema, body);
      const result = await this.chat.regenerate(socket.data.principal.sub, input, requestId, socket.id, socket.data.principal.groups);
      return { ...result, assistantMessageId: result.assistantMessageId! };
    });
  }

  private cancel(socket: AuthedSocket, body: unknown): Promise<Ack> {
    return this.handle('chat:cancel', randomUUID(), async () => {
      const { jobId } = parseOrThrow(chatCancelSchema, body);
      await this.chat.cancel(socket.data.principal.sub, jobId);
      return {};
    });
  }

  private resume(socket: AuthedSocket, body: unknown): Promise<Ack> {
    return this.handle('chat:resume', randomUUID(), async () => {
      const { jobId, afterSeq } = parseOrThrow(chatResumeSchema, body);
      await this.chat.resume(socket, socket.data.principal.sub, jobId, afterSeq);
      return {};
    });
  }

  /** Turns any outcome into an ack; nothing a client sends can crash the process. */
  private async handle<T extends object>(event: string, requestId: string, work: () => Promise<T>): Promise<Ack<T>> {
    try {
      return { ok: true, ...(await work()) };
    } catch (err) {
      if (err instanceof AppError) {
        const error: AckError['error'] = { code: err.code, message: err.message };
        if (err.details !== undefined) error.details = err.details;
        if (err instanceof RateLimitedError) error.retryAfterMs = err.retryAfterMs;
        return { ok: false, error };
      }
      this.logger.error({ err, event, requestId }, 'socket event failed');
      if (isDependencyOutage(err)) return { ok: false, error: { code: 'unavailable', message: outageMessage } };
      return { ok: false, error: { code: 'internal', message: 'Internal error, try again' } };
    }
  }
}

type Listener = (this: AuthedSocket, ...args: unknown[]) => void;

/**
 * One listener function per event for every socket of the node (Socket.IO calls a listener with
 * the socket as `this`), in place of closures per socket.
 */
function sharedListeners(
  events: Record<string, (socket: AuthedSocket, body: unknown) => Promise<unknown>>,
  disconnect: (socket: AuthedSocket) => void,
  ackFailed: (err: unknown) => void,
): [string, Listener][] {
  const listeners: [string, Listener][] = Object.entries(events).map(([event, handle]) => [
    event,
    function (this: AuthedSocket, ...args: unknown[]) {
      const ack = args[args.length - 1];
      handle(this, bodyOf(args)).then((value) => typeof ack === 'function' && (ack as AckFn)(value), ackFailed);
    },
  ]);
  listeners.push([
    'disconnect',
    function (this: AuthedSocket) {
      disconnect(this);
    },
  ]);
  return listeners;
}

/**
 * Checked at each event (no timer per socket): an expired token's events are refused. An
 * any-listener runs before the event is dispatched, and a socket disconnected here never gets it
 * (Socket.IO dispatches only to connected sockets).
 */
function refuseAfterExpiry(this: AuthedSocket, ...packet: unknown[]) {
  if (Date.now() < this.data.expiresAt) return;
  const ack = packet[packet.length - 1];
  if (typeof ack === 'function') (ack as AckFn)(expiredAck);
  this.disconnect(true);
}

/**
 * The event's body, read the way Nest's @MessageBody() read it (kept so that every ack stays the
 * same): the last argument is the ack when it is a function; one argument left is the body, more
 * are an array, none is undefined.
 */
function bodyOf(args: unknown[]): unknown {
  const size = typeof args[args.length - 1] === 'function' ? args.length - 1 : args.length;
  if (size === 0) return undefined;
  if (size === 1) return args[0];
  return args.slice(0, size);
}

function socketError(code: 'unauthorized' | 'forbidden' | 'rate_limited' | 'unavailable', message: string): Error & { data: { code: string; message: string } } {
  return Object.assign(new Error(message), { data: { code, message } });
}
