import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  type Job,
  jobDeleteQuerySchema,
  jobLimits,
  type JobListQuery,
  jobListQuerySchema,
  type JobPage,
  type SummarizeRequest,
  summarizeRequestSchema,
  type WebhookDeliveryPage,
} from '@switchboard/contracts';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { AppError } from '../common/app-error.js';
import { parseOrThrow, ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { JobScope, JobScopeGuard, SubmitLimitsGuard } from './jobs.guards.js';
import { JobsService } from './jobs.service.js';

@Controller('v1/jobs')
@UseGuards(JobScopeGuard)
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  /**
   * 202 with the job. The same Idempotency-Key and body from the same principal within
   * JOBS_IDEMPOTENCY_TTL_MS returns the same job with `Idempotent-Replayed: true`; the key with
   * another body is 422 `idempotency_key_reused`.
   */
  @Post('summarize')
  @HttpCode(202)
  @JobScope('jobs:write')
  @UseGuards(SubmitLimitsGuard)
  async summarize(
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: unknown,
    @Req() req: Request & { id?: string },
    @Res({ passthrough: true }) res: Response,
  ): Promise<Job> {
    const key = checkIdempotencyKey(idempotencyKey);
    const input: SummarizeRequest = parseOrThrow(summarizeRequestSchema, body);
    const { job, replayed } = await this.jobs.submit(principal.sub, input, key, String(req.id ?? ''), principal);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    return job;
  }

  @Get()
  @JobScope('jobs:read')
  list(@CurrentPrincipal() principal: Principal, @Query(new ZodValidationPipe(jobListQuerySchema)) query: JobListQuery): Promise<JobPage> {
    return this.jobs.list(principal.sub, query);
  }

  @Get(':id')
  @JobScope('jobs:read')
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Job> {
    return this.jobs.get(principal.sub, id);
  }

  /**
   * 202: a waiting job is cancelled at once, a running one stops at Bedrock; 202 again for a job
   * already cancelled (a safe retry); 409 when it already completed or failed.
   */
  @Delete(':id')
  @HttpCode(202)
  @JobScope('jobs:write')
  cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query(new ZodValidationPipe(jobDeleteQuerySchema)) query: { purge?: 'true' | 'false' }): Promise<Job> {
    return query.purge === 'true' ? this.jobs.purge(principal.sub, id) : this.jobs.cancel(principal.sub, id);
  }

  /** Every attempt to deliver the job's callback: `{ items: [{ at, status, durationMs, error? }] }`. */
  @Get(':id/deliveries')
  @JobScope('jobs:read')
  deliveries(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<WebhookDeliveryPage> {
    return this.jobs.deliveries(principal.sub, id);
  }

  /** Delivers a finished job's callback again → 202 with the job (its `callback.status` is pending). */
  @Post(':id/deliveries')
  @HttpCode(202)
  @JobScope('jobs:write')
  redeliver(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Job> {
    return this.jobs.redeliver(principal.sub, id);
  }
}

function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  const trimmed = key.trim();
  if (!trimmed || trimmed.length > jobLimits.maxIdempotencyKeyChars) {
    throw new AppError('validation_failed', `Idempotency-Key must be 1–${jobLimits.maxIdempotencyKeyChars} characters`, [
      { path: 'Idempotency-Key', message: 'invalid length' },
    ]);
  }
  return trimmed;
}
