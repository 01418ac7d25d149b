import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { AppConfig } from '@switchboard/server-core';

/** How long a connection may stay open without joining a namespace (i.e. without a valid token). */
const connectTimeoutMs = 10_000;

type IoOptions = Parameters<IoAdapter['createIOServer']>[1];

/**
 * Socket.IO server options that come from the config: a small frame limit for every connection
 * until it authenticates (the gateway then raises it for that connection only).
 */
export class ChatIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: IoOptions): ReturnType<IoAdapter['createIOServer']> {
    return super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: this.config.sockets.unauthenticatedMaxBytes,
      connectTimeout: connectTimeoutMs,
    } as IoOptions);
  }
}
