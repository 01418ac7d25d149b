import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  type Job,
  type JobListQuery,
  type JobPage,
  jobLimits,
  type SummarizeRequest,
  supportedDocumentFormats,
} from '@switchboard/contracts';
import {
  type AppConfig,
  CallbackTargetError,
  cancelChannel,
  cancelKey,
  checkCallbackUrl,
  jobNameOf,
  type SummarizeJobData,
  toJob,
  type WebhookJobData,
  webhookJobId,
} from '@switchboard/server-core';
import { AppError, notFound } from '../common/app-error.js';
import { CatalogService } from '../config/catalog.service.js';
import { checkDocumentSizes } from '../documents/document-limits.js';
import { LimitsService } from '../limits/limits.service.js';
import { APP_CONFIG } from '../config/tokens.js';
import { isCursorDate, isUuid } from '../conversations/conversations.service.js';
import { REDIS } from '../redis/redis.module.js';
import { SUMMARIZE_QUEUE, WEBHOOKS_QUEUE } from './jobs.tokens.js';
import { JobIntake } from './job-intake.js';
import { JobsRepository, type JobView } from './jobs.repository.js';

const cancelKeyTtlSeconds = 24 * 60 * 60;

@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SUMMARIZE_QUEUE) private readonly queue: Queue<SummarizeJobData>,
    @Inject(WEBHOOKS_QUEUE) private readonly webhooks: Queue<WebhookJobData>,
    private readonly repository: JobsRepository,
    private readonly intake: JobIntake,
    private readonly catalog: CatalogService,
    private readonly limits: LimitsService,
  ) {}

  /** The same job for a repeated Idempotency-Key of this owner, if any (checked before the body). */
  async findRetry(owner: string, idempotencyKey: string | undefined): Promise<Job | undefined> {
    if (!idempotencyKey) return undefined;
    const row = await this.repository.findByIdempotencyKey(owner, idempotencyKey);
    return row && toJob(row);
  }

  /** Stores the job in Postgres, then enqueues: once this returns, the job is accepted for good. */
  async submit(owner: string, input: SummarizeRequest, idempotencyKey: string | undefined, requestId: string): Promise<Job> {
    checkDocuments(input);
    checkDocumentSizes((input.documents ?? []).map((d, i) => ({ ...d, path: `documents.${i}.data` })), this.config.documents);
    const model = input.modelId ? this.catalog.require(input.modelId) : this.catalog.default();
    if (input.callbackUrl) {
      try {
        await checkCallbackUrl(input.callbackUrl, this.config.jobs.webhooks.allowPrivate);
      } catch (err) {
        if (!(err instanceof CallbackTargetError)) throw err;
        throw new AppError('validation_failed', err.message, [{ path: 'callbackUrl', message: err.message, range: err.range }]);
      }
    }
    await this.limits.checkJob(owner, (input.text?.length ?? 0) + (input.documents ?? []).reduce((n, d) => n + d.data.length, 0));
    const { callbackUrl, modelId: _modelId, ...stored } = input;
    const row = await this.intake.accept({
      id: randomUUID(),
      owner,
      modelId: model.id,
      input: { ...stored, name: input.name ?? jobNameOf(input) },
      idempotencyKey,
      callbackUrl,
      requestId,
    });
    if (!row) {
      // Lost a race with a concurrent retry of the same key: that one's job is the job.
      const previous = await this.repository.findByIdempotencyKey(owner, idempotencyKey!);
      if (!previous) throw new AppError('conflict', 'Could not store the job, try again');
      return toJob(previous);
    }
    return toJob(row);
  }

  async get(owner: string, id: string): Promise<Job> {
    return toJob(await this.require(owner, id));
  }

  async list(owner: string, query: JobListQuery): Promise<JobPage> {
    const { rows, hasMore } = await this.repository.list(owner, {
      limit: query.limit,
      status: query.status,
      cursor: query.cursor ? decodeCursor(query.cursor) : undefined,
    });
    const last = rows.at(-1);
    return { items: rows.map(toJob), nextCursor: hasMore && last ? encodeCursor(last) : null };
  }

  /**
   * Cancels a queued or running job. The record ends as cancelled at once; a waiting job leaves
   * the queue, a running one (or the chunks of a long document) stops at Bedrock through the
   * workers' cancel channel.
   */
  async cancel(owner: string, id: string): Promise<Job> {
    const job = await this.require(owner, id);
    if (job.status !== 'queued' && job.status !== 'active') throw new AppError('conflict', `Job is already ${job.status}`);
    await this.redis.set(cancelKey(id), '1', 'EX', cancelKeyTtlSeconds);
    const ended = await this.repository.finish(id, 'cancelled', { code: 'cancelled', message: 'Cancelled by the client' });
    if (!ended) {
      const now = await this.require(owner, id);
      throw new AppError('conflict', `Job is already ${now.status}`);
    }
    await this.redis.publish(cancelChannel(this.config.queuePrefix), id);
    const queued = await this.queue.getJob(id);
    if (queued) await tryRemove(queued);
    if (ended.callbackUrl) await this.enqueueCallback(id);
    return toJob(ended);
  }

  private async enqueueCallback(jobId: string) {
    const { attempts, backoffMs } = this.config.jobs.webhooks;
    await this.webhooks
      .add('deliver', { jobId }, { jobId: webhookJobId(jobId), attempts, backoff: { type: 'exponential', delay: backoffMs }, removeOnComplete: { age: 3600 }, removeOnFail: { age: 7 * 24 * 3600 } })
      .catch((err) => this.logger.warn({ err, jobId }, 'callback enqueue failed; the reconciler will retry it'));
  }

  private async require(owner: string, id: string): Promise<JobView> {
    const row = isUuid(id) ? await this.repository.find(owner, id) : undefined;
    if (!row) throw notFound('Job');
    return row;
  }
}

/** Formats and encodings fail fast at submit; extraction happens in the worker. */
function checkDocuments(input: SummarizeRequest) {
  for (const [i, doc] of (input.documents ?? []).entries()) {
    if (!supportedDocumentFormats.includes(doc.format)) {
      throw new AppError('unsupported_media_type', `Document "${doc.name}" has format "${doc.format}"; supported: ${supportedDocumentFormats.join(', ')}`, [
        { path: `documents.${i}.format`, message: `unsupported format "${doc.format}"` },
      ]);
    }
    const data = doc.data.replace(/\s+/g, '');
    if (data.length % 4 === 1) {
      throw new AppError('validation_failed', `Document "${doc.name}" is not valid base64`, [{ path: `documents.${i}.data`, message: 'must be base64' }]);
    }
  }
  const total = (input.text?.length ?? 0) + (input.documents ?? []).reduce((n, d) => n + d.data.length, 0);
  if (total > jobLimits.maxBodyBytes) throw new AppError('payload_too_large', 'The text and documents together are too large');
}

/** Removes a job no worker holds (with its waiting chunks); false when a worker has it. */
async function tryRemove(job: { remove(): Promise<void>; getState(): Promise<string> }): Promise<boolean> {
  const state = await job.getState();
  if (!['waiting', 'delayed', 'prioritized', 'waiting-children'].includes(state)) return false;
  try {
    await job.remove();
    return true;
  } catch {
    return false;
  }
}

function encodeCursor(row: JobView): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !isUuid(id) || !isCursorDate(createdAt)) {
    throw new AppError('validation_failed', 'Invalid cursor', [{ path: 'cursor', message: 'not a cursor this API returned' }]);
  }
  return { createdAt, id };
}
