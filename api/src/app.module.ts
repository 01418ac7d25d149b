import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { type AppConfig, logTransport, safeErrorSerializer } from '@switchboard/server-core';
import { AdminModule } from './admin/admin.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { BatchesModule } from './batches/batches.module.js';
import { ChatModule } from './chat/chat.module.js';
import { HttpErrorFilter } from './common/http-error.filter.js';
import { assignRequestId } from './common/request-id.js';
import { ConfigModule } from './config/config.module.js';
import { ConversationsModule } from './conversations/conversations.module.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { LimitsModule } from './limits/limits.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { ModelsModule } from './models/models.module.js';
import { OpsModule } from './ops/ops.module.js';
import { PromptsModule } from './prompts/prompts.module.js';
import { RedisModule } from './redis/redis.module.js';
import { SpendModule } from './spend/spend.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

/** Query values other than a few harmless ones (a search `q` is the user's text) are left out of logs. */
const loggedQueryKeys = new Set(['limit', 'status', 'locale', 'groupBy', 'action']);
function loggedUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const params = new URLSearchParams(url.slice(at + 1));
  const kept = [...params.keys()].map((k) => (loggedQueryKeys.has(k) ? `${k}=${encodeURIComponent(params.get(k)!.slice(0, 40))}` : `${encodeURIComponent(k.slice(0, 40))}=…`));
  return `${url.slice(0, at)}?${kept.join('&')}`;
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            name: 'api',
            level: config.logLevel,
            ...(logTransport(config.logFormat) ? { transport: logTransport(config.logFormat) } : {}),
            // Normally set by the requestId middleware before this one; the same rule otherwise.
            genReqId: (req, res) => assignRequestId(req, res),
            // Each request's logger is made with its req serialized, logged or not: keep that cheap
            // (no wrapping in pino's full serializer). Headers stay out of the logs: tokens, cookies.
            wrapSerializers: false,
            serializers: {
              req: (req: IncomingMessage & { id?: unknown; originalUrl?: string }) => ({
                id: req.id,
                method: req.method,
                url: loggedUrl(req.originalUrl ?? req.url ?? ''),
                remoteAddress: req.socket?.remoteAddress,
              }),
              res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
              // Driver errors carry statement parameters (users' text): logged without them.
              err: safeErrorSerializer,
            },
            autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' || (req.url ?? '').startsWith('/admin/queues/static/') },
          },
        }),
        DatabaseModule,
        RedisModule,
        LimitsModule,
        AuditModule,
        AuthModule,
        HealthModule,
        MetricsModule,
        ModelsModule,
        PromptsModule,
        ConversationsModule,
        ChatModule,
        AdminModule,
        OpsModule,
        JobsModule,
        BatchesModule,
        WebhooksModule,
        SpendModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpErrorFilter }],
    };
  }
}
