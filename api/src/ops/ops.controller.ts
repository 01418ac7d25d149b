import { Controller, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { RedisClient as Redis } from '@switchboard/server-core';
import type { OpsSnapshot } from '@switchboard/contracts';
import type { AppConfig } from '@switchboard/server-core';
import { AdminGuard } from '../auth/admin.guard.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { APP_CONFIG } from '../config/tokens.js';
import { REDIS } from '../redis/redis.module.js';
import { OpsService } from './ops.service.js';
import { openQueueSession } from './queue-dashboard.js';

/** Admins only (AdminGuard: members of AUTH_ADMIN_GROUP; others 403). */
@Controller('v1/admin')
@UseGuards(AdminGuard)
export class OpsController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly ops: OpsService,
  ) {}

  /** The Operations picture once (the page gets it pushed on `/ops`); admins only. */
  @Get('ops')
  snapshot(): Promise<OpsSnapshot> {
    return this.ops.snapshot();
  }

  /** A 15-minute cookie for the queue dashboard at /admin/queues (browsers navigate without the bearer token). */
  @Post('queues/session')
  @HttpCode(204)
  async queueSession(@CurrentPrincipal() principal: Principal, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    res.setHeader('Set-Cookie', await openQueueSession(this.redis, this.config, principal, req.secure));
    res.setHeader('Cache-Control', 'no-store');
  }
}
