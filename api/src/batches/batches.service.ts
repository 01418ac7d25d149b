import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { RedisClient as Redis } from '@switchboard/server-core';
import {
  type Batch,
  type BatchCreate,
  batchCreateSchema,
  batchJsonlQuerySchema,
  batchLimits,
  type BatchResultLine,
  findJsonProblem,
  jsonLimits,
  supportedDocumentFormats,
} from '@switchboard/contracts';
import {
  type AppConfig,
  batchStatusOf,
  enqueueBatchCallback,
  enqueueSummarize,
  jobNameOf,
  signalCancels,
  type SummarizeJobData,
  toBatch,
  type WebhookJobData,
} from '@switchboard/server-core';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { AppError, notFound } from '../common/app-error.js';
import { SpendService } from '../spend/spend.service.js';
import { whenRedisUp } from '../common/redis-guard.js';
import { CatalogService } from '../config/catalog.service.js';
import { APP_CONFIG } from '../config/tokens.js';
import { isUuid } from '../common/ids.js';
import { checkDocumentSizes } from '../documents/document-limits.js';
import { SUMMARIZE_QUEUE, WEBHOOKS_QUEUE } from '../jobs/jobs.tokens.js';
import { canonicalJson } from '../jobs/job-fingerprint.js';
import { assertCallbackUrl } from '../jobs/callback-url.js';
import { LimitsService } from '../limits/limits.service.js';
import { REDIS } from '../redis/redis.module.js';
import { BatchesRepository, type NewBatchItem } from './batches.repository.js';

/** Items enqueued per BullMQ addBulk (one Redis round trip each). */
const enqueueChunk = 1000;
/** Rows per results query: what one results stream holds in memory at a time. */
const resultsPage = 500;
/**
 * Batch items wait behind single jobs (BullMQ runs jobs without a priority first), and concurrent
 * batches take turns: item i gets priority 1 + ⌊i / 100⌋, so every batch's first 100 items come
 * before any batch's next 100. Within what reaches Bedrock the governor's batch lane ranks each
 * client's n-th waiting call with everyone else's n-th.
 */
const fairnessRound = 100;
const maxPriority = 2 ** 21 - 1;

type ItemError = { path: string; message: string; code?: string };

/**
 * Bulk submissions. Every item is checked before anything is stored; one bad item refuses the
 * whole batch with 400 listing the items' errors (a batch is stored whole or not at all, so a
 * client never has to work out which half went in). Then the batch and all its items are stored
 * in one transaction and enqueued; the 202 comes after the commit.
 */
@Injectable()
export class BatchesService {
  private readonly logger = new Logger(BatchesService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SUMMARIZE_QUEUE) private readonly queue: Queue<SummarizeJobData>,
    @Inject(WEBHOOKS_QUEUE) private readonly webhooks: Queue<WebhookJobData>,
    private readonly repository: BatchesRepository,
    private readonly catalog: CatalogService,
    private readonly limits: LimitsService,
    private readonly spend: SpendService,
    private readonly audit: AuditService,
  ) {}

  /** A JSONL body (one item a line) as the JSON form, with the batch's fields from the query. */
  parseJsonl(text: string, query: unknown): unknown {
    const batchFields = parseOrThrowTrimmed(batchJsonlQuerySchema, query ?? {});
    const items: unknown[] = [];
    const errors: ItemError[] = [];
    const lines = text.split('\n');
    for (const [n, line] of lines.entries()) {
      if (!line.trim()) continue;
      try {
        items.push(JSON.parse(line));
      } catch {
        errors.push({ path: `line ${n + 1}`, message: 'not valid JSON' });
        items.push(null);
      }
    }
    if (errors.length > 0) throw itemErrors(errors);
    return { ...batchFields, items };
  }

  async create(principal: Principal, body: unknown, idempotencyKey: string | undefined, requestId: string): Promise<{ batch: Batch; replayed: boolean }> {
    const owner = principal.sub;
    const count = Array.isArray((body as { items?: unknown } | null)?.items) ? (body as { items: unknown[] }).items.length : 0;
    const max = this.config.jobs.batchMaxItems;
    if (count > max) throw new AppError('payload_too_large', `The batch has ${count} items; the limit is ${max} (BATCH_MAX_ITEMS)`, { limit: max, items: count });
    const input = parseOrThrowTrimmed(batchCreateSchema, body);
    const fingerprint = idempotencyKey ? createHash('sha256').update(canonicalJson(input)).digest('hex') : undefined;
    if (idempotencyKey) {
      const previous = await this.replayOf(owner, idempotencyKey, fingerprint!);
      if (previous) return { batch: previous, replayed: true };
    }
    const items = await this.checkItems(input, principal);
    await assertCallbackUrl(input.callbackUrl, this.config.jobs.webhooks.allowPrivate);
    // 402 when a block budget cannot fit even the items' text input; whether each item fits is
    // decided per call at admission, as for single jobs.
    const texts = items.map((item, i) => ({ chars: input.items[i]!.text?.length ?? 0, model: this.catalog.require(item.modelId) }));
    await this.spend.assertRoom(principal, texts, 'batches');
    // One submission for the per-minute limit; the stored bytes count every item.
    await this.limits.checkJob(owner, input.items.reduce((n, i) => n + (i.text?.length ?? 0) + (i.documents ?? []).reduce((m, d) => m + d.data.length, 0), 0));
    const id = randomUUID();
    const row = await this.repository.insert({
      id,
      owner,
      metadata: input.metadata,
      callbackUrl: input.callbackUrl,
      idempotencyKey,
      idempotencyFingerprint: fingerprint,
      requestId,
      principalGroups: principal.groups,
      principalKind: principal.kind,
      items,
    });
    if (!row) {
      const previous = await this.replayOf(owner, idempotencyKey!, fingerprint!);
      if (!previous) throw new AppError('conflict', 'Could not store the batch, try again');
      return { batch: previous, replayed: true };
    }
    await this.enqueue(owner, requestId, items);
    return { batch: toBatch(row, { queued: items.length }), replayed: false };
  }

  async get(owner: string, id: string): Promise<Batch> {
    const row = await this.require(owner, id);
    return this.view(row);
  }

  /**
   * The results as JSONL lines, in item order, a page at a time: a batch of any size streams in
   * bounded memory (keyset paging on the item index, not OFFSET).
   */
  async *results(owner: string, id: string): AsyncGenerator<string> {
    await this.require(owner, id);
    let after = -1;
    for (;;) {
      const rows = await this.repository.results(id, after, resultsPage);
      if (rows.length === 0) return;
      let chunk = '';
      for (const r of rows) {
        const line: BatchResultLine = { customId: r.customId ?? '', jobId: r.id, status: r.status };
        if (typeof r.result?.summary === 'string') line.summary = r.result.summary;
        if (r.error) line.error = { code: r.error.code, message: r.error.message };
        if (r.usage) {
          const { costUsd, ...tokens } = r.usage;
          line.usage = tokens;
          if (typeof costUsd === 'number') line.costUsd = costUsd;
        }
        chunk += `${JSON.stringify(line)}\n`;
      }
      yield chunk;
      after = rows.at(-1)!.index;
      if (rows.length < resultsPage) return;
    }
  }

  /**
   * Cancels every item not yet ended (running ones stop at Bedrock) and the batch → its one
   * callback (`batch.cancelled`). Repeating it is safe (202 with the batch); a completed batch is 409.
   */
  async cancel(owner: string, id: string): Promise<Batch> {
    const row = await this.require(owner, id);
    if (row.status === 'cancelled') return this.view(row);
    if (row.status === 'completed') throw new AppError('conflict', 'Batch is already completed');
    const { active, batch } = await this.repository.cancel(id);
    if (active.length > 0) {
      await signalCancels(this.redis, this.config.queuePrefix, active).catch((err) =>
        this.logger.warn({ err, batchId: id }, 'cancel signals failed; running items end when their workers look'),
      );
    }
    // Waiting items stay in Redis until a worker picks them: it sees them cancelled and skips them.
    if (batch?.callbackUrl) {
      await enqueueBatchCallback(this.webhooks, this.config, id).catch((err) => this.logger.warn({ err, batchId: id }, 'batch callback enqueue failed; the reconciler will retry it'));
    }
    return this.view(batch ?? (await this.require(owner, id)));
  }

  private async view(row: Awaited<ReturnType<BatchesRepository['find']>> & object): Promise<Batch> {
    const counts = await this.repository.counts(row.id);
    const batch = toBatch(row, counts);
    if (row.status === 'queued' || row.status === 'active') {
      const status = batchStatusOf(counts);
      // 'completed' once a worker recorded it (then finishedAt is set and the callback is queued).
      batch.status = status === 'completed' ? 'active' : status;
    }
    return batch;
  }

  private async checkItems(input: BatchCreate, principal: Principal): Promise<NewBatchItem[]> {
    const errors: ItemError[] = [];
    let refusedModel: string | undefined;
    const seen = new Map<string, number>();
    const items: NewBatchItem[] = [];
    for (const [i, item] of input.items.entries()) {
      const at = `items.${i}`;
      const first = seen.get(item.customId);
      if (first !== undefined) errors.push({ path: `${at}.customId`, message: `duplicate customId "${item.customId}" (also items.${first})` });
      else seen.set(item.customId, i);
      let modelId = '';
      try {
        // Model access by group, as for single jobs: model_not_found / model_not_allowed per item.
        modelId = this.catalog.modelFor(item.modelId, principal.groups).id;
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        if (err.code === 'model_not_allowed') refusedModel ??= item.modelId ?? '';
        errors.push({ path: `${at}.modelId`, message: err.message, code: err.code });
      }
      for (const [d, doc] of (item.documents ?? []).entries()) {
        if (!supportedDocumentFormats.includes(doc.format)) {
          errors.push({ path: `${at}.documents.${d}.format`, message: `unsupported format "${doc.format}"; supported: ${supportedDocumentFormats.join(', ')}`, code: 'unsupported_media_type' });
        } else if (doc.data.replace(/\s+/g, '').length % 4 === 1) {
          errors.push({ path: `${at}.documents.${d}.data`, message: 'must be base64' });
        }
      }
      try {
        checkDocumentSizes((item.documents ?? []).map((doc, d) => ({ ...doc, path: `${at}.documents.${d}.data` })), this.config.documents);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        errors.push({ path: `${at}.documents`, message: err.message, code: err.code });
      }
      const { customId, modelId: _m, ...stored } = item;
      items.push({ id: randomUUID(), modelId, customId, input: { ...stored, name: item.name ?? jobNameOf(item) } });
    }
    if (refusedModel !== undefined) await this.audit.modelRefused(principal.sub, refusedModel, 'batches');
    if (errors.length > 0) throw itemErrors(errors);
    return items;
  }

  /** Enqueues the items in chunks; any that do not make it are enqueued by the workers' reconciler. */
  private async enqueue(owner: string, requestId: string, items: readonly NewBatchItem[]): Promise<void> {
    try {
      for (let i = 0; i < items.length; i += enqueueChunk) {
        const chunk = items.slice(i, i + enqueueChunk);
        await whenRedisUp(this.redis, this.config.redisEnqueueTimeoutMs, () =>
          enqueueSummarize(
            this.queue,
            chunk.map((item) => ({ jobId: item.id, owner, requestId })),
            (j) => Math.min(maxPriority, 1 + Math.floor((i + j) / fairnessRound)),
          ),
        );
      }
    } catch (err) {
      this.logger.error({ err, items: items.length }, 'batch enqueue failed; the reconciler will enqueue the items');
    }
  }

  private async replayOf(owner: string, key: string, fingerprint: string): Promise<Batch | undefined> {
    const row = await this.repository.findByIdempotencyKey(owner, key);
    if (!row) return undefined;
    if (row.createdAt.getTime() <= Date.now() - this.config.jobs.idempotencyTtlMs) {
      await this.repository.releaseIdempotencyKey(row.id, key);
      return undefined;
    }
    if (row.idempotencyFingerprint !== fingerprint) {
      throw new AppError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body; use a new key for a new request', [
        { path: 'Idempotency-Key', message: `already used by batch ${row.id} with a different body` },
      ]);
    }
    return this.view(row);
  }

  private async require(owner: string, id: string) {
    const row = isUuid(id) ? await this.repository.find(owner, id) : undefined;
    if (!row) throw notFound('Batch');
    return row;
  }
}

/** 400 listing the first item errors (all of them counted in the message). */
function itemErrors(errors: ItemError[]): AppError {
  const shown = errors.slice(0, batchLimits.maxReportedErrors);
  const more = errors.length > shown.length ? ` (first ${shown.length} listed)` : '';
  const summary = shown.slice(0, 3).map((e) => `${e.path}: ${e.message}`).join('; ');
  return new AppError('validation_failed', `The batch has ${errors.length} invalid item${errors.length > 1 ? 's' : ''}${more}; nothing was stored: ${summary}`, shown);
}

/** Like parseOrThrow, but lists at most batchLimits.maxReportedErrors issues (10,000 bad items make a short answer). */
function parseOrThrowTrimmed<S extends { safeParse(v: unknown): { success: true; data: unknown } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }>(
  schema: S,
  value: unknown,
): S extends { safeParse(v: unknown): { success: true; data: infer T } | { success: false } } ? T : never {
  const problem = findJsonProblem(value, { maxDepth: jsonLimits.maxBodyDepth });
  if (problem) throw new AppError('validation_failed', `Invalid request: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`, [{ path: problem.path, message: problem.message }]);
  const result = schema.safeParse(value);
  if (result.success) return result.data as never;
  throw itemErrors(result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })));
}
