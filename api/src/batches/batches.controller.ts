import { once } from 'node:events';
import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { type Batch, jobLimits } from '@switchboard/contracts';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { AppError } from '../common/app-error.js';
import { JobScope, JobScopeGuard } from '../jobs/jobs.guards.js';
import { BatchSubmitGuard } from './batches.guards.js';
import { BatchesService } from './batches.service.js';

export const ndjsonType = 'application/x-ndjson';

/** Bulk summarization: `/v1/batches` (scopes as for jobs). */
@Controller('v1/batches')
@UseGuards(JobScopeGuard)
export class BatchesController {
  constructor(private readonly batches: BatchesService) {}

  /**
   * 202 with the batch once it and every item are stored. JSON `{ items, callbackUrl?, metadata? }`,
   * or JSONL (`Content-Type: application/x-ndjson`, one item a line, `?callbackUrl=`).
   * Idempotency-Key as for jobs: a replay answers `Idempotent-Replayed: true`.
   */
  @Post()
  @HttpCode(202)
  @JobScope('jobs:write')
  @UseGuards(BatchSubmitGuard)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: unknown,
    @Query() query: unknown,
    @Req() req: Request & { id?: string },
    @Res({ passthrough: true }) res: Response,
  ): Promise<Batch> {
    const key = checkIdempotencyKey(idempotencyKey);
    const input = req.is(ndjsonType) ? this.batches.parseJsonl(typeof body === 'string' ? body : '', query) : body;
    if (!req.is(ndjsonType) && query && Object.keys(query).length > 0) {
      throw new AppError('validation_failed', 'Query parameters are only for JSONL bodies', [{ path: Object.keys(query)[0]!, message: 'unexpected' }]);
    }
    const { batch, replayed } = await this.batches.create(principal, input, key, String(req.id ?? ''));
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    return batch;
  }

  @Get(':id')
  @JobScope('jobs:read')
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Batch> {
    return this.batches.get(principal.sub, id);
  }

  /** JSONL, one `{ customId, jobId, status, summary?, error?, usage?, costUsd? }` a line, in item order, streamed. */
  @Get(':id/results')
  @JobScope('jobs:read')
  async results(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Res() res: Response): Promise<void> {
    const lines = this.batches.results(principal.sub, id);
    // The first page (or the 404) before any header goes out.
    const first = await lines.next();
    res.status(200).type(ndjsonType);
    // Backpressure: the next page is read only once the client took the last one; a client that
    // goes away ends the stream (and its cursor).
    const send = async (chunk: string) => {
      if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      return !res.destroyed;
    };
    if (!first.done && (await send(first.value))) {
      for await (const chunk of lines) if (!(await send(chunk))) return void (await lines.return(undefined));
    }
    res.end();
  }

  /** Cancels every item not yet ended → 202 with the batch (again 202 when already cancelled; 409 when completed). */
  @Delete(':id')
  @HttpCode(202)
  @JobScope('jobs:write')
  cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Batch> {
    return this.batches.cancel(principal.sub, id);
  }
}

function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  const trimmed = key.trim();
  if (!trimmed || trimmed.length > jobLimits.maxIdempotencyKeyChars) {
    throw new AppError('validation_failed', `Idempotency-Key must be 1–${jobLimits.maxIdempotencyKeyChars} characters`, [{ path: 'Idempotency-Key', message: 'invalid length' }]);
  }
  return trimmed;
}
