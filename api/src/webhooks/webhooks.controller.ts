import { randomBytes } from 'node:crypto';
import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import type { WebhookSecret } from '@switchboard/contracts';
import type { WebhookSecretRow } from '@switchboard/server-core';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { JobScope, JobScopeGuard } from '../jobs/jobs.guards.js';
import { WebhooksRepository } from './webhooks.repository.js';

/** The caller's secret that signs its job callbacks (`X-Switchboard-Signature`). */
@Controller('v1/webhooks/secret')
@UseGuards(JobScopeGuard)
export class WebhooksController {
  constructor(private readonly repository: WebhooksRepository) {}

  /** The current secret (one is created on first use). */
  @Get()
  @JobScope('jobs:write')
  async get(@CurrentPrincipal() principal: Principal): Promise<WebhookSecret> {
    return view(await this.repository.getOrCreate(principal.sub, newSecret()));
  }

  /** Rotates: callbacks from now on are signed with the returned secret. */
  @Post()
  @HttpCode(200)
  @JobScope('jobs:write')
  async rotate(@CurrentPrincipal() principal: Principal): Promise<WebhookSecret> {
    return view(await this.repository.replace(principal.sub, newSecret()));
  }
}

const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;
const view = (row: WebhookSecretRow): WebhookSecret => ({ secret: row.secret, createdAt: row.createdAt.toISOString() });
