import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { AppConfig } from '@switchboard/server-core';

/** How long a connection may stay open without joining a namespace (i.e. without a valid token). */
const connectTimeoutMs = 10_000;

type IoOptions = Parameters<IoAdapter['createIOServer']>[1];

/**
 * Socket.IO server options that come from the config: a small frame limit for every connection
 * until it authenticates (the gateway then raises it for that connection only). Per-connection
 * memory is kept low for many idle sockets: no per-message deflate (a zlib context per
 * connection) and no connection-state recovery (a buffer of missed packets per socket; the portal
 * resumes streams by seq itself).
 */
export class ChatIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: IoOptions): ReturnType<IoAdapter['createIOServer']> {
    const { connectionStateRecovery: _recovery, ...rest } = (options ?? {}) as NonNullable<IoOptions> & { connectionStateRecovery?: unknown };
    return super.createIOServer(port, {
      ...rest,
      maxHttpBufferSize: this.config.sockets.unauthenticatedMaxBytes,
      connectTimeout: connectTimeoutMs,
      perMessageDeflate: false,
    } as IoOptions);
  }

  /**
   * Nest calls this for every connection, even for a gateway without @SubscribeMessage handlers
   * (the chat gateway registers its own shared listeners), and then keeps an rxjs pipeline per
   * socket for nothing. With no handlers there is nothing to bind.
   */
  override bindMessageHandlers(...args: Parameters<IoAdapter['bindMessageHandlers']>): void {
    if (args[1].length === 0) return;
    super.bindMessageHandlers(...args);
  }
}
