import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { RedisClient as Redis } from '@switchboard/server-core';
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
  enqueueCallback,
  enqueueRedelivery,
  jobNameOf,
  type SummarizeJobData,
  toJob,
  type WebhookJobData,
  markCancelRequested,
  stopJob,
} from '@switchboard/server-core';
import type { WebhookDeliveryPage } from '@switchboard/contracts';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { AppError, notFound } from '../common/app-error.js';
import { SpendService } from '../spend/spend.service.js';
import { CatalogService } from '../config/catalog.service.js';
import { checkDocumentSizes } from '../documents/document-limits.js';
import { LimitsService } from '../limits/limits.service.js';
import { APP_CONFIG } from '../config/tokens.js';
import { isUuid } from '../common/ids.js';
import { decodeCursor, encodeCursor } from '../common/keyset-cursor.js';
import { REDIS } from '../redis/redis.module.js';
import { SUMMARIZE_QUEUE, WEBHOOKS_QUEUE } from './jobs.tokens.js';
import { requestFingerprint } from './job-fingerprint.js';
import { assertCallbackUrl } from './callback-url.js';
import { JobIntake } from './job-intake.js';
import { JobsRepository, type JobView } from './jobs.repository.js';

export type Submitted = { job: Job; replayed: boolean };

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
    private readonly spend: SpendService,
    private readonly audit: AuditService,
  ) {}

  /**
   * Stores the job in Postgres, then enqueues: once this returns, the job is accepted for good.
   * With an Idempotency-Key used by this owner within JOBS_IDEMPOTENCY_TTL_MS: the same request
   * replays that job (`replayed`), another request is refused with `idempotency_key_reused`.
   */
  async submit(
    owner: string,
    input: SummarizeRequest,
    idempotencyKey: string | undefined,
    requestId: string,
    principal: Pick<Principal, 'sub' | 'groups' | 'kind' | 'username' | 'scopes'> = { sub: owner, groups: [], kind: 'person', username: owner, scopes: [] },
  ): Promise<Submitted> {
    const fingerprint = idempotencyKey ? requestFingerprint(input) : undefined;
    if (idempotencyKey) {
      const previous = await this.replayOf(owner, idempotencyKey, fingerprint!);
      if (previous) return { job: previous, replayed: true };
    }
    checkDocuments(input);
    checkDocumentSizes((input.documents ?? []).map((d, i) => ({ ...d, path: `documents.${i}.data` })), this.config.documents);
    let model;
    try {
      model = this.catalog.modelFor(input.modelId, principal.groups);
    } catch (err) {
      if (err instanceof AppError && err.code === 'model_not_allowed') await this.audit.modelRefused(owner, input.modelId, 'jobs');
      throw err;
    }
    // 402 when a block budget cannot fit even the text's input: known to fail. Whether the whole
    // job fits is decided per call at admission (the job then fails).
    await this.spend.assertRoom(principal as Principal, [{ chars: input.text?.length ?? 0, model }], 'jobs:summarize');
    await assertCallbackUrl(input.callbackUrl, this.config.jobs.webhooks.allowPrivate);
    await this.limits.checkJob(owner, (input.text?.length ?? 0) + (input.documents ?? []).reduce((n, d) => n + d.data.length, 0));
    const { callbackUrl, modelId: _modelId, ...stored } = input;
    const row = await this.intake.accept({
      id: randomUUID(),
      owner,
      modelId: model.id,
      input: { ...stored, name: input.name ?? jobNameOf(input) },
      idempotencyKey,
      idempotencyFingerprint: fingerprint,
      callbackUrl,
      requestId,
      principalGroups: principal.groups,
      principalKind: principal.kind,
    });
    if (!row) {
      // Lost a race with a concurrent request with the same key: that one's job is the job.
      const previous = await this.replayOf(owner, idempotencyKey!, fingerprint!);
      if (!previous) throw new AppError('conflict', 'Could not store the job, try again');
      return { job: previous, replayed: true };
    }
    return { job: toJob(row), replayed: false };
  }

  /**
   * The job this owner made with the key, when the same request made it within the window;
   * 422 when another request did. An expired key is released so it can make a new job.
   * Jobs stored before fingerprints existed (none recorded) are replayed, as they were then.
   */
  private async replayOf(owner: string, key: string, fingerprint: string): Promise<Job | undefined> {
    const row = await this.repository.findByIdempotencyKey(owner, key);
    if (!row) return undefined;
    if (row.createdAt.getTime() <= Date.now() - this.config.jobs.idempotencyTtlMs) {
      await this.repository.releaseIdempotencyKey(row.id, key);
      return undefined;
    }
    if (row.idempotencyFingerprint !== null && row.idempotencyFingerprint !== fingerprint) {
      throw new AppError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body; use a new key for a new request', [
        { path: 'Idempotency-Key', message: `already used by job ${row.id} with a different body` },
      ]);
    }
    return toJob(row);
  }

  async get(owner: string, id: string): Promise<Job> {
    return toJob(await this.require(owner, id));
  }

  async list(owner: string, query: JobListQuery): Promise<JobPage> {
    const position = query.cursor ? decodeCursor(query.cursor) : undefined;
    const { rows, hasMore } = await this.repository.list(owner, {
      limit: query.limit,
      status: query.status,
      createdAfter: query.createdAfter,
      createdBefore: query.createdBefore,
      cursor: position && { createdAt: position.at, id: position.id },
      ascending: query.sort === 'createdAt',
      metadata: query.metadata,
      batchId: query.batchId,
    });
    const last = rows.at(-1);
    return { items: rows.map(toJob), nextCursor: hasMore && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  /**
   * Cancels a queued or running job. The record ends as cancelled at once; a waiting job leaves
   * the queue, a running one (or the chunks of a long document) stops at Bedrock through the
   * workers' cancel channel.
   */
  async cancel(owner: string, id: string): Promise<Job> {
    const job = await this.require(owner, id);
    // A retried cancel is safe: the job is already what the client asked for.
    if (job.status === 'cancelled') return toJob(job);
    if (job.status !== 'queued' && job.status !== 'active') throw new AppError('conflict', `Job is already ${job.status}`);
    await markCancelRequested(this.redis, id);
    const ended = await this.repository.finish(id, 'cancelled', { code: 'cancelled', message: 'Cancelled by the client' });
    if (!ended) {
      const now = await this.require(owner, id);
      if (now.status === 'cancelled') return toJob(now);
      throw new AppError('conflict', `Job is already ${now.status}`);
    }
    await stopJob(this.redis, this.queue, this.config.queuePrefix, id);
    if (ended.callbackUrl) await this.enqueueCallback(id);
    return toJob(ended);
  }

  /**
   * `DELETE /v1/jobs/:id?purge=true`: erases the job's input and result now. A queued or running
   * job is cancelled first (it never writes a result afterwards); a finished one keeps its status.
   */
  async purge(owner: string, id: string): Promise<Job> {
    const job = await this.require(owner, id);
    if (job.status === 'queued' || job.status === 'active') {
      await this.cancel(owner, id).catch((err) => {
        if (!(err instanceof AppError && err.code === 'conflict')) throw err; // it ended meanwhile: purge all the same
      });
    }
    const purged = await this.repository.purge(id);
    if (!purged) throw notFound('Job');
    return toJob(purged);
  }

  /** `GET /v1/jobs/:id/deliveries`: every attempt to deliver the job's callback. */
  async deliveries(owner: string, id: string): Promise<WebhookDeliveryPage> {
    await this.require(owner, id);
    return { items: await this.repository.deliveries(id) };
  }

  /** `POST /v1/jobs/:id/deliveries`: delivers the finished job's callback again (same delivery id). */
  async redeliver(owner: string, id: string): Promise<Job> {
    const job = await this.require(owner, id);
    if (!job.callbackUrl) throw new AppError('conflict', 'This job has no callbackUrl');
    const owed = await this.repository.owedAgain(id);
    if (!owed) throw new AppError('conflict', `Job is still ${job.status}; its callback goes out when it ends`);
    await enqueueRedelivery(this.webhooks, this.config, id, String(Date.now()));
    return toJob(owed);
  }

  private async enqueueCallback(jobId: string) {
    await enqueueCallback(this.webhooks, this.config, jobId).catch((err) => this.logger.warn({ err, jobId }, 'callback enqueue failed; the reconciler will retry it'));
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
