import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import {
  type Job,
  jobLimits,
  type JobListQuery,
  jobListQuerySchema,
  type JobPage,
  type SummarizeRequest,
  summarizeRequestSchema,
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

  /** 202 with the job; the same Idempotency-Key from the same principal returns the same job. */
  @Post('summarize')
  @HttpCode(202)
  @JobScope('jobs:write')
  @UseGuards(SubmitLimitsGuard)
  async summarize(
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: unknown,
    @Req() req: Request & { id?: string },
  ): Promise<Job> {
    const key = checkIdempotencyKey(idempotencyKey);
    const previous = await this.jobs.findRetry(principal.sub, key);
    if (previous) return previous;
    const input: SummarizeRequest = parseOrThrow(summarizeRequestSchema, body);
    return this.jobs.submit(principal.sub, input, key, String(req.id ?? ''));
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

  /** 202: a waiting job is cancelled at once, a running one stops at Bedrock; 409 when it already ended. */
  @Delete(':id')
  @HttpCode(202)
  @JobScope('jobs:write')
  cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Job> {
    return this.jobs.cancel(principal.sub, id);
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
