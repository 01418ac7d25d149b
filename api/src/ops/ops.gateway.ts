import { Inject, Logger, type OnModuleDestroy } from '@nestjs/common';
import { type OnGatewayInit, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import { opsNamespace, opsServerEvents } from '@switchboard/contracts';
import type { AppConfig } from '@switchboard/server-core';
import { verifySocketToken } from '../auth/socket-auth.js';
import { TokenVerifier } from '../auth/token-verifier.service.js';
import type { AppError } from '../common/app-error.js';
import { APP_CONFIG } from '../config/tokens.js';
import { isAdmin } from './admin-check.js';
import { OpsService } from './ops.service.js';

/**
 * Socket.IO `/ops`: the live Operations page. The handshake carries the same `auth: { token }` as
 * `/chat`; only admins (AUTH_ADMIN_GROUP) connect — others get `connect_error` `forbidden`. While
 * at least one admin is connected, this node builds the picture from Redis every
 * OPS_PUSH_INTERVAL_MS and pushes `ops:snapshot` to all of them (one build per node, not per
 * admin); with nobody watching it does nothing. A socket lives no longer than its token.
 */
@WebSocketGateway({ namespace: opsNamespace, cors: { origin: true } })
export class OpsGateway implements OnGatewayInit, OnModuleDestroy {
  private readonly logger = new Logger(OpsGateway.name);
  @WebSocketServer() namespace!: Namespace;
  private timer?: NodeJS.Timeout;
  private building = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly verifier: TokenVerifier,
    private readonly ops: OpsService,
  ) {}

  afterInit(namespace: Namespace) {
    namespace.use((socket, next) => {
      verifySocketToken(socket, this.verifier).then(
        ({ principal, expiresAt }) => {
          if (!isAdmin(principal, this.config)) return next(socketError('forbidden', `Operations is for members of "${this.config.auth.adminGroup}"`));
          socket.data.expiresAt = expiresAt;
          next();
        },
        (err: AppError) => next(socketError('unauthorized', err.message)),
      );
    });
    namespace.on('connection', (socket: Socket) => {
      const expiry = setTimeout(() => socket.disconnect(true), Math.max(0, (socket.data.expiresAt as number) - Date.now()));
      expiry.unref();
      socket.once('disconnect', () => {
        clearTimeout(expiry);
        if (namespace.sockets.size === 0) this.stop();
      });
      // The first picture at once, then on the timer with everyone else.
      void this.ops.snapshot().then(
        (snapshot) => socket.emit(opsServerEvents.snapshot, snapshot),
        (err) => this.logger.warn({ err }, 'ops snapshot failed'),
      );
      this.start();
    });
  }

  onModuleDestroy() {
    this.stop();
  }

  private start() {
    if (this.timer) return;
    this.timer = setInterval(() => void this.push(), this.config.ops.pushIntervalMs);
    this.timer.unref();
  }

  private stop() {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async push() {
    if (this.building || this.namespace.sockets.size === 0) return;
    this.building = true;
    try {
      this.namespace.emit(opsServerEvents.snapshot, await this.ops.snapshot());
    } catch (err) {
      this.logger.warn({ err }, 'ops snapshot failed');
    } finally {
      this.building = false;
    }
  }
}

function socketError(code: 'unauthorized' | 'forbidden', message: string): Error & { data: { code: string; message: string } } {
  return Object.assign(new Error(message), { data: { code, message } });
}
