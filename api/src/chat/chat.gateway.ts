import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
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
import { AppError } from '../common/app-error.js';
import { isDependencyOutage, outageMessage } from '../common/dependency-outage.js';
import { parseOrThrow } from '../common/zod-validation.pipe.js';
import { LimitsService } from '../limits/limits.service.js';
import { RateLimitedError } from '../limits/rate-limited.error.js';
import { ChatService } from './chat.service.js';
import { JobRelayService } from './job-relay.service.js';

type AuthedSocket = Socket & { data: { principal: Principal } };

/**
 * Socket.IO `/chat`. The handshake is authenticated in a connection middleware, so every
 * connection and reconnection is verified before any event; every client event gets an ack.
 */
@WebSocketGateway({ namespace: chatNamespace, maxHttpBufferSize: contentLimits.maxMessageBytes, cors: { origin: true } })
export class ChatGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(ChatGateway.name);

  constructor(
    private readonly chat: ChatService,
    private readonly relay: JobRelayService,
    private readonly limits: LimitsService,
  ) {}

  afterInit(namespace: Namespace) {
    namespace.use((socket, next) => {
      verifySocketToken(socket).then(
        async (principal) => {
          // RATE_SOCKETS_PER_USER, counted across every API node.
          if (!(await this.limits.openSocket(principal.sub, socket.id).catch(() => true))) {
            const message = 'Too many open connections for this user; close another tab or window';
            const error = new Error(message) as Error & { data: unknown };
            error.data = { code: 'rate_limited', message, retryAfterMs: 5000 };
            return next(error);
          }
          socket.data.principal = principal;
          next();
        },
        (err: AppError) => {
          const error = new Error(err.message) as Error & { data: unknown };
          error.data = { code: 'unauthorized', message: err.message };
          next(error);
        },
      );
    });
  }

  async handleConnection(socket: AuthedSocket) {
    await this.relay.addSocket(socket, socket.data.principal.sub);
  }

  async handleDisconnect(socket: AuthedSocket) {
    if (!socket.data.principal) return;
    // During shutdown Redis may already be closed: nothing to clean up then.
    await Promise.all([this.relay.removeSocket(socket, socket.data.principal.sub), this.limits.closeSocket(socket.data.principal.sub, socket.id)]).catch(
      (err) => this.logger.debug?.(`socket cleanup skipped: ${(err as Error).message}`),
    );
  }

  @SubscribeMessage(chatClientEvents.send)
  send(@ConnectedSocket() socket: AuthedSocket, @MessageBody() body: unknown): Promise<ChatSendAck> {
    const requestId = randomUUID();
    return this.handle('chat:send', requestId, async () => {
      const input = parseOrThrow(chatSendSchema, body);
      return this.chat.send(socket.data.principal.sub, input, requestId);
    });
  }

  @SubscribeMessage(chatClientEvents.regenerate)
  regenerate(@ConnectedSocket() socket: AuthedSocket, @MessageBody() body: unknown): Promise<ChatRegenerateAck> {
    const requestId = randomUUID();
    return this.handle('chat:regenerate', requestId, async () => {
      const input = parseOrThrow(chatRegenerateSchema, body);
      const result = await this.chat.regenerate(socket.data.principal.sub, input, requestId);
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
