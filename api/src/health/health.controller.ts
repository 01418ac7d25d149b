import { Controller, Get, Inject, Logger, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { RedisClient as Redis } from '@switchboard/server-core';
import type { Database } from '@switchboard/server-core';
import { Public } from '../auth/principal.js';
import { DATABASE } from '../database/database.module.js';
import { REDIS } from '../redis/redis.module.js';

@Public()
@Controller()
export class HealthController {
  private readonly logger = new Logger(HealthController.name);

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(DATABASE) private readonly database: Database,
  ) {}

  /** The process is up. */
  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /**
   * Redis and the database answer; 503 otherwise. Says which is down but not why: error text
   * (host names, driver messages) goes to the log, not to an unauthenticated caller.
   */
  @Get('readyz')
  async readyz(@Res() res: Response) {
    const [redis, database] = await Promise.all([this.check('redis', () => this.redis.ping()), this.check('database', () => this.database.ping())]);
    const ok = redis === 'ok' && database === 'ok';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks: { redis, database } });
  }

  private async check(name: string, probe: () => Promise<unknown>): Promise<'ok' | 'down'> {
    try {
      await withTimeout(probe(), 2000);
      return 'ok';
    } catch (err) {
      this.logger.warn({ err, dependency: name }, 'readiness check failed');
      return 'down';
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
