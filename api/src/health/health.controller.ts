import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import type { Database } from '@switchboard/server-core';
import { Public } from '../auth/principal.js';
import { DATABASE } from '../database/database.module.js';
import { REDIS } from '../redis/redis.module.js';

@Public()
@Controller()
export class HealthController {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(DATABASE) private readonly database: Database,
  ) {}

  /** The process is up. */
  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /** Redis and the database answer; 503 otherwise. */
  @Get('readyz')
  async readyz(@Res() res: Response) {
    const [redis, database] = await Promise.all([
      check(() => this.redis.ping()),
      check(() => this.database.ping()),
    ]);
    const ok = redis === 'ok' && database === 'ok';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks: { redis, database } });
  }
}

async function check(probe: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(probe(), 2000);
    return 'ok';
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
