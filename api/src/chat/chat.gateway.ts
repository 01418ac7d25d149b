import { randomUUID } from 'node:crypto';
import { Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
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
import { grantFrameAllowance } from './socket-limits.js';

type AuthedSocket = Socket & { data: { principal: Principal; expiresAt: number } };

/** Idle sockets are cut this long after `exp` (events are refused from `exp` on, exactly). */
const expirySweepSlackMs = 1000;

const expiredAck = { ok: false, error: { code: 'unauthorized', message: 'The token has expired; reconnect with a fresh one' } } as const;

/**
 * Socket.IO `/chat`. The handshake is authenticated in a connection middleware, so every
 * connection and reconnection is verified before any event; every client event gets an ack.
 * A socket lives no longer than its token: events after `exp` are refused and the socket is cut
 * (at the event, or by the shared expiry wheel when it is idle). Frames stay small until the
 * connection has authenticated (see ChatIoAdapter and grantFrameAllowance).
 */
@WebSocketGateway({ namespace: chatNamespace, cors: { origin: true } })
export class ChatGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy {
  private readonly logger = new Logger(ChatGateway.name);
  private readonly expiry = new SocketExpiry((socket) => socket.disconnect(true));

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
          socket.data.principal = principal;
          socket.data.expiresAt = expiresAt;
          // Checked at each event (no timer per socket): an expired token's events are refused.
          socket.use((packet, proceed) => {
            if (Date.now() < expiresAt) return proceed();
            const ack = packet[packet.length - 1];
            if (typeof ack === 'function') (ack as (a: unknown) => void)(expiredAck);
            socket.disconnect(true);
          });
          grantFrameAllowance(socket, contentLimits.maxMessageBytes);
          next();
        },
        (err: AppError) => next(socketError('unauthorized', err.message)),
      );
    });
  }

  async handleConnection(socket: AuthedSocket) {
    this.expiry.track(socket, socket.data.expiresAt + expirySweepSlackMs);
    await this.relay.addSocket(socket, socket.data.principal.sub);
  }

  async handleDisconnect(socket: AuthedSocket) {
    this.expiry.untrack(socket);
    if (!socket.data.principal) return;
    // During shutdown Redis may already be closed: nothing to clean up then.
    await Promise.all([this.relay.removeSocket(socket, socket.data.principal.sub), this.limits.closeSocket(socket.data.principal.sub, socket.id)]).catch(
      (err) => this.logger.debug?.(`socket cleanup skipped: ${(err as Error).message}`),
    );
  }

  onModuleDestroy() {
    this.expiry.stop();
  }

  @SubscribeMessage(chatClientEvents.send)
  send(@ConnectedSocket() socket: AuthedSocket, @MessageBody() body: unknown): Promise<ChatSendAck> {
    const requestId = randomUUID();
    return this.handle('chat:send', requestId, async () => {
      const input = parseOrThrow(chatSendSchema, body);
      return this.chat.send(socket.data.principal.sub, input, requestId, socket.id);
    });
  }

  @SubscribeMessage(chatClientEvents.regenerate)
  regenerate(@ConnectedSocket() socket: AuthedSocket, @MessageBody() body: unknown): Promise<ChatRegenerateAck> {
    const requestId = randomUUID();
    return this.handle('chat:regenerate', requestId, async () => {
      const input = parseOrThrow(chatRegenerateSchema, body);
      const result = await this.chat.regenerate(socket.data.principal.sub, input, requestId, socket.id);
      return { ...result, assistantMessageId: result.assistantMessageId! };
    });
  }

  @SubscribeMessage(chatClientEvents.cancel)
  cancel(@ConnectedSocket() socket: AuthedSocket, @MessageBody() body: unknown): Promise<Ack> {
    return this.handle('chat:cancel', randomUUID(), async () => {
      const { jobId } = parseOrThrow(chatCancelSchema, body);
      await this.chat.cancel(socket.data.principal.sub, jobId);
      return {};
    });
  }

  @SubscribeMessage(chatClientEvents.resume)
  resume(@ConnectedSocket() socket: AuthedSocket, @MessageBody() body: unknown): Promise<Ack> {
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

function socketError(code: 'unauthorized' | 'forbidden' | 'rate_limited', message: string): Error & { data: { code: string; message: string } } {
  return Object.assign(new Error(message), { data: { code, message } });
}
