import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { type AppConfig, applyBaselineJit, assertRedisReachable, loadConfig } from '@switchboard/server-core';
import { AppModule } from './app.module.js';
import { TokenVerifier } from './auth/token-verifier.service.js';
import { ChatIoAdapter } from './chat/chat-io.adapter.js';
import { bodyGate } from './common/body-gate.js';
import { requestId } from './common/request-id.js';
import { securityHeaders } from './common/security-headers.js';
import { setupDocs } from './docs/openapi.js';
import { MetricsService } from './metrics/metrics.service.js';
import { queueDashboard } from './ops/queue-dashboard.js';
import { REDIS } from './redis/redis.module.js';
import { portalDir, servePortal } from './web/portal.js';

export type RunningApi = { app: NestExpressApplication; url: string; close(): Promise<void> };


/** Builds and starts the API; used by main.ts and by the single-process launcher. */
export async function startApi(config: AppConfig = loadConfig()): Promise<RunningApi> {
  applyBaselineJit(config);
  await assertRedisReachable(config.redisUrl);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  const logger = app.get(Logger);
  app.useLogger(logger);
  // Only these peers may set X-Forwarded-For/-Proto (the ALB, a local proxy); others cannot spoof them.
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  app.use(requestId());
  const portal = portalDir(config.webDistDir);
  app.use(...securityHeaders(config, portal));
  // Token and Content-Length are checked before any body is read; JOBS_MAX_BODY_BYTES is the one limit.
  app.use(bodyGate(config.jobs.maxBodyBytes, app.get(TokenVerifier)));
  app.useBodyParser('json', { limit: config.jobs.maxBodyBytes });
  app.useBodyParser('text', { type: 'application/x-ndjson', limit: config.jobs.maxBodyBytes });
  app.useWebSocketAdapter(new ChatIoAdapter(app, config));
  app.enableShutdownHooks();
  setupDocs(app);
  const dashboard = queueDashboard({ queues: app.get(MetricsService).queues(), redis: app.get(REDIS), config, verifier: app.get(TokenVerifier) });
  app.use(dashboard.path, ...dashboard.handlers);
  if (!servePortal(app, portal)) logger.warn(`Portal not built (${portal}); serving the API only`);
  if (config.auth.mode === 'local' && config.auth.localInsecure) {
    logger.warn(
      `INSECURE: AUTH_MODE=local on ${config.host} (AUTH_LOCAL_INSECURE=true): anyone who can reach this port can sign in as any user. ` +
        'Use AUTH_MODE=oidc for anything but a trusted network.',
    );
  }
  if (config.bedrockMode === 'emulator') {
    app.get(Logger).warn('BEDROCK_MODE=emulator: answers come from the local Bedrock emulator, not Amazon Bedrock');
  }
  // Node's 5 s keep-alive behind a 300 s ALB idle timeout gives intermittent 502s: the ALB may send
  // a request on a connection Node is closing. Keep idle connections longer than the ALB does;
  // headers must be allowed at least as long (Node checks headersTimeout against keepAliveTimeout).
  const server = app.getHttpServer();
  server.keepAliveTimeout = config.httpKeepAliveTimeoutMs;
  server.headersTimeout = config.httpKeepAliveTimeoutMs + 5000;
  // Node requires requestTimeout ≥ headersTimeout; slow clients are bounded by the ALB in front.
  server.requestTimeout = Math.max(server.requestTimeout, server.headersTimeout);
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  return { app, url, close: () => app.close() };
}
