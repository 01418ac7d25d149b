import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import DataLoader from 'dataloader';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { type AppConfig, enqueueSummarize, type SummarizeJobData, summarizeJobFromRow } from '@switchboard/server-core';
import { AppError } from '../common/app-error.js';
import { isDependencyOutage } from '../common/dependency-outage.js';
import { whenRedisUp } from '../common/redis-guard.js';
import { APP_CONFIG } from '../config/tokens.js';
import { REDIS } from '../redis/redis.module.js';
import { SUMMARIZE_QUEUE } from './jobs.tokens.js';
import { JobsRepository, type JobView, type NewSummarizeJob } from './jobs.repository.js';

/**
 * Accepts submissions in batches: the submissions that arrive in one turn of the event loop are
 * stored with one INSERT and enqueued with one Redis round trip. Under load this is what lets one
 * API process accept thousands of jobs a second; a lone submission still goes out at once.
 */
@Injectable()
export class JobIntake {
  private readonly logger = new Logger(JobIntake.name);
  private readonly batches: DataLoader<NewSummarizeJob, JobView | undefined | Error>;

  constructor(
    private readonly repository: JobsRepository,
    @Inject(SUMMARIZE_QUEUE) private readonly queue: Queue<SummarizeJobData>,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.batches = new DataLoader((batch) => this.acceptBatch(batch), {
      cache: false,
      maxBatchSize: 500,
      // Requests arrive in separate I/O callbacks: wait for the check phase to gather them all.
      batchScheduleFn: (flush) => setImmediate(flush),
    });
  }

  /**
   * Stores the job, then enqueues it: once this resolves the job is accepted for good. Undefined
   * when the owner already used the job's Idempotency-Key (a concurrent retry won).
   */
  async accept(job: NewSummarizeJob): Promise<JobView | undefined> {
    const result = await this.batches.load(job);
    if (result instanceof Error) throw result;
    return result;
  }

  private async acceptBatch(batch: readonly NewSummarizeJob[]): Promise<(JobView | undefined | Error)[]> {
    const stored = new Map<string, JobView>();
    const failed = new Map<string, Error>();
    try {
      for (const row of await this.repository.insertMany(batch)) stored.set(row.id, row);
    } catch (err) {
      if (isDependencyOutage(err)) throw err;
      // One bad row must not fail the others: store them one by one, failing only the bad ones.
      if (batch.length > 1) this.logger.warn({ err, rows: batch.length }, 'batched insert failed; storing the rows one by one');
      await Promise.all(
        batch.map(async (job) => {
          try {
            if (batch.length === 1) throw err;
            for (const row of await this.repository.insertMany([job])) stored.set(row.id, row);
          } catch (rowErr) {
            failed.set(job.id, isDependencyOutage(rowErr) ? (rowErr as Error) : rowError(rowErr));
          }
        }),
      );
    }
    const byId = new Map(batch.map((job) => [job.id, job]));
    try {
      // Redis down: the 202 goes out at once instead of after ioredis's reconnect cycles.
      await whenRedisUp(this.redis, this.config.redisEnqueueTimeoutMs, () =>
        enqueueSummarize(this.queue, [...stored.keys()].map((id) => summarizeJobFromRow(byId.get(id)!))),
      );
    } catch (err) {
      // Accepted all the same: they are in Postgres and the workers' reconciler enqueues them.
      this.logger.error({ err, jobIds: [...stored.keys()] }, 'enqueue failed; the reconciler will enqueue the jobs');
    }
    return batch.map((job) => failed.get(job.id) ?? stored.get(job.id));
  }
}

/** Data the database refuses (SQLSTATE class 22, e.g. an untranslatable character) is the request's fault. */
function rowError(err: unknown): Error {
  const code = (err as { code?: unknown; cause?: { code?: unknown } }).cause?.code ?? (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('22')) return new AppError('validation_failed', 'The job contains data that cannot be stored');
  return err instanceof Error ? err : new Error(String(err));
}
