import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { DelayedError, type Job, type Queue, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import type { RedisClient as Redis } from '@switchboard/server-core';
import type { ModelEntry, Usage } from '@switchboard/contracts';
import {
  type AppConfig,
  attemptNumber,
  BudgetExceededError,
  costOf,
  enqueueBatchCallback,
  enqueueCallback,
  enqueueSummarizeChunks,
  isCancelRequested,
  isFinalAttempt,
  type Logger,
  type Payer,
  type SpendRepository,
  type SummarizeJobData,
  type WebhookJobData,
} from '@switchboard/server-core';
import { errorCodeOf, isRetryableBedrockError } from '../bedrock/bedrock-client.js';
import { chunkBudgetChars, chunkOutputTokens, chunkText } from './chunk-text.js';
import { DocumentError, type DocumentExtractor } from '../documents/document-extractor.js';
import { type BatchQuota, callModel, type ModelCallContext } from './model-call.js';
import type { StoredSummarizeInput, SummarizeJobsRepository, SummarizeOutcome } from './summarize-jobs.repository.js';

export type SummarizeDeps = {
  config: AppConfig;
  redis: Redis;
  bedrock: BedrockRuntimeClient;
  repository: SummarizeJobsRepository;
  models: () => readonly ModelEntry[];
  logger: Logger;
  /** The summarize queue itself (chunks are its child jobs) and the callbacks queue. */
  queue: Queue;
  webhooks: Queue<WebhookJobData>;
  /** Running chunk jobs by their document's job id, so a cancel of the job reaches them. */
  activeChunks: Map<string, Set<string>>;
  quota?: BatchQuota;
  /** Document text comes from here: threads with caps, so a hostile file fails only its job. */
  extractor: DocumentExtractor;
  /** Usage ledger and audit (budgets are checked at admission). */
  spend?: SpendRepository;
};

/** Input with nothing to summarize: the job fails without retries. */
class NothingToSummarize extends Error {}

/** A summarize job between its steps: after the first it waits for chunk summaries of `level`. */
type RootData = SummarizeJobData & { step?: 'reduce'; level?: number; count?: number };
type ChunkData = {
  rootId: string;
  owner: string;
  requestId: string;
  modelId: string;
  level: number;
  index: number;
  count: number;
  text: string;
  instructions?: string;
  /** Who pays (budgets, shares, ledger): as the job was submitted. */
  payer?: Payer;
};
export type ChunkResult = { level: number; index: number; summary: string; usage: Usage; cancelled?: boolean };

/** Rounds of combining beyond which the summaries are cut to fit rather than combined again. */
const maxLevels = 4;
const zero: Usage = { inputTokens: 0, outputTokens: 0 };
const system = 'You write faithful, concise summaries. Answer with the summary only, without a preamble.';

/**
 * Batch summarization. A text that fits one call is summarized at once. A longer one is
 * map-reduced: the job adds one child job per chunk (a BullMQ flow under this job), waits for them,
 * then combines their summaries, in more rounds if they still do not fit.
 */
export function createSummarizeProcessor(deps: SummarizeDeps) {
  return async (job: Job, token?: string, signal?: AbortSignal): Promise<unknown> =>
    job.name === 'chunk' ? processChunk(deps, job as Job<ChunkData>, token, signal) : processRoot(deps, job as Job<RootData>, token, signal);
}

async function processRoot(deps: SummarizeDeps, job: Job<RootData>, token: string | undefined, signal: AbortSignal | undefined): Promise<void> {
  const { jobId } = job.data;
  const log = deps.logger.child({ jobId, requestId: job.data.requestId, attempt: attemptNumber(job), step: job.data.step ?? 'start' });
  const [row, cancelAsked] = await Promise.all([deps.repository.load(jobId), isCancelRequested(deps.redis, jobId)]);
  if (!row || (row.status !== 'queued' && row.status !== 'active')) return; // ended already (e.g. cancelled while waiting)
  const finish = (outcome: SummarizeOutcome) => finishJob(deps, jobId, withCost(outcome, deps.models().find((m) => m.id === row.modelId)));
  if (cancelAsked) return void (await finish({ status: 'cancelled' }));
  const model = deps.models().find((m) => m.id === row.modelId);
  if (!model) {
    await finish({ status: 'failed', error: { code: 'model_not_found', message: `Model ${row.modelId} is no longer in the catalog` } });
    throw new UnrecoverableError('model not in catalog');
  }
  const input = row.input ?? {};
  const budget = chunkBudgetChars(model, input.instructions?.length ?? 0, deps.config.jobs.maxChunkChars);
  const payer: Payer = { principal: row.owner, kind: row.principalKind ?? 'person', groups: row.principalGroups ?? [] };
  const ctx: ModelCallContext = {
    bedrock: deps.bedrock, job, token, signal, owner: row.owner, quota: deps.quota, log,
    ...(deps.spend ? { spending: { repository: deps.spend, payer, jobId } } : {}),
  };
  try {
    for (;;) {
      if (!job.data.step) {
        if (!(await deps.repository.markActive(jobId))) return;
        const text = await sourceText(deps.extractor, input, signal);
        if (!text.trim()) throw new NothingToSummarize('The text and documents contain no text to summarize');
        const chunks = chunkText(text, budget);
        if (chunks.length <= 1) {
          // One call, no chunks to count: the read input is the first visible step.
          await deps.repository.raiseProgress(jobId, 10);
          const answer = await callModel(ctx, { model, system, prompt: singlePrompt(text, input), maxTokens: finalMaxTokens(model, input), purpose: 'summarize' });
          await finish({ status: 'completed', summary: answer.text, usage: answer.usage });
          log.info({ usage: answer.usage, chars: text.length }, 'summary completed');
          return;
        }
        log.info({ chunks: chunks.length, chars: text.length, budget }, 'map-reduce: summarizing chunks');
        if (await spawnAndWait(deps, job, token, payer, model, 0, chunks, input.instructions)) return;
        continue;
      }
      const level = job.data.level ?? 0;
      const results = Object.values(await job.getChildrenValues<ChunkResult>());
      if (results.some((r) => r?.cancelled) || (await isCancelRequested(deps.redis, jobId))) {
        return void (await finish({ status: 'cancelled', usage: sumUsage(results) }));
      }
      const current = results.filter((r) => r.level === level).sort((a, b) => a.index - b.index);
      if (current.length < (job.data.count ?? 0)) throw new Error(`only ${current.length} of ${job.data.count} chunk summaries found`);
      const joined = current.map((r) => r.summary.trim()).join('\n\n');
      if (joined.length > budget && level + 1 < maxLevels) {
        log.info({ level: level + 1, chars: joined.length }, 'map-reduce: summaries too long to combine at once; another round');
        if (await spawnAndWait(deps, job, token, payer, model, level + 1, chunkText(joined, budget), input.instructions)) return;
        continue;
      }
      const answer = await callModel(ctx, {
        model, system, prompt: combinePrompt(joined.slice(0, budget), input), maxTokens: finalMaxTokens(model, input), purpose: 'summarize_reduce',
      });
      const usage = sumUsage([...results, answer]);
      await finish({ status: 'completed', summary: answer.text, usage });
      log.info({ usage, chunks: results.length }, 'map-reduce summary completed');
      return;
    }
  } catch (err) {
    if (err instanceof WaitingChildrenError || err instanceof DelayedError) throw err;
    if (signal?.aborted) return void (await finish({ status: 'cancelled' }));
    if (err instanceof BudgetExceededError) {
      // Over a block budget: final (no retry) until an admin raises it or the period ends.
      await finish({ status: 'failed', error: { code: 'budget_exceeded', message: err.message } });
      throw new UnrecoverableError(err.message);
    }
    if (err instanceof DocumentError || err instanceof NothingToSummarize) {
      const code = err instanceof DocumentError ? err.code : 'bad_request';
      log.warn({ code, err: { message: err.message } }, 'document refused');
      await finish({ status: 'failed', error: { code, message: err.message } });
      throw new UnrecoverableError(err.message);
    }
    if (err instanceof UnrecoverableError) {
      // From admission: one call would need more than the model's whole quota.
      await finish({ status: 'failed', error: { code: 'content_too_large', message: err.message } });
      throw err;
    }
    const retryable = isRetryableBedrockError(err) || !isBedrockError(err);
    const lastAttempt = isFinalAttempt(job);
    log.warn({ err: { name: (err as Error).name, message: (err as Error).message }, retryable, lastAttempt }, 'summarize attempt failed');
    if (retryable && !lastAttempt) throw err;
    await finish({ status: 'failed', error: { code: isBedrockError(err) ? errorCodeOf(err) : 'internal', message: (err as Error).message || 'Summarization failed' } });
    throw new UnrecoverableError((err as Error).message);
  }
}

/**
 * Adds the chunk jobs as children of this job and parks it until they finish; false when they had
 * all finished already (a retry), so the caller goes straight on to combining.
 */
async function spawnAndWait(
  deps: SummarizeDeps,
  job: Job<RootData>,
  token: string | undefined,
  payer: Payer,
  model: ModelEntry,
  level: number,
  chunks: string[],
  instructions: string | undefined,
): Promise<boolean> {
  const { jobId, requestId } = job.data;
  await enqueueSummarizeChunks(
    deps.queue,
    { id: job.id!, queue: job.queueQualifiedName },
    chunks.map((text, index): ChunkData => ({
      rootId: jobId, owner: payer.principal, payer, requestId, modelId: model.id, level, index, count: chunks.length, text, instructions,
    })),
  );
  await job.updateData({ ...job.data, step: 'reduce', level, count: chunks.length });
  if (await job.moveToWaitingChildren(token!)) throw new WaitingChildrenError();
  return false;
}

async function processChunk(deps: SummarizeDeps, job: Job<ChunkData>, token: string | undefined, signal: AbortSignal | undefined): Promise<ChunkResult> {
  const d = job.data;
  const cancelled: ChunkResult = { level: d.level, index: d.index, summary: '', usage: zero, cancelled: true };
  let active = deps.activeChunks.get(d.rootId);
  if (!active) deps.activeChunks.set(d.rootId, (active = new Set()));
  active.add(job.id!);
  try {
    if (await isCancelRequested(deps.redis, d.rootId)) return cancelled;
    const model = deps.models().find((m) => m.id === d.modelId);
    if (!model) throw new UnrecoverableError(`Model ${d.modelId} is no longer in the catalog`);
    const payer: Payer = d.payer ?? { principal: d.owner, kind: 'person', groups: [] };
    const ctx: ModelCallContext = {
      bedrock: deps.bedrock, job, token, signal, owner: d.owner, quota: deps.quota,
      log: deps.logger.child({ jobId: d.rootId, requestId: d.requestId, chunk: job.id }),
      ...(deps.spend ? { spending: { repository: deps.spend, payer, jobId: d.rootId } } : {}),
    };
    const maxTokens = Math.min(model.maxOutputTokens, chunkOutputTokens);
    const answer = await callModel(ctx, { model, system: chunkSystem(d), prompt: chunkPrompt(d), maxTokens, purpose: d.level === 0 ? 'summarize_chunk' : 'summarize_reduce' });
    if (signal?.aborted) return cancelled;
    await reportProgress(deps, d);
    return { level: d.level, index: d.index, summary: answer.text, usage: answer.usage };
  } catch (err) {
    if (err instanceof DelayedError) throw err;
    if (signal?.aborted) return cancelled;
    const overBudget = err instanceof BudgetExceededError;
    const retryable = !overBudget && !(err instanceof UnrecoverableError) && (isRetryableBedrockError(err) || !isBedrockError(err));
    const lastAttempt = isFinalAttempt(job);
    deps.logger.warn(
      { jobId: d.rootId, chunk: job.id, err: { name: (err as Error).name, message: (err as Error).message }, retryable, lastAttempt },
      'chunk summary failed',
    );
    if (retryable && !lastAttempt) throw err;
    // One chunk that cannot be summarized fails the document; its parent fails in BullMQ too.
    const code = overBudget ? 'budget_exceeded' : isBedrockError(err) ? errorCodeOf(err) : err instanceof UnrecoverableError ? 'content_too_large' : 'model_error';
    const message = overBudget ? (err as Error).message : `Part ${d.index + 1} of ${d.count}: ${(err as Error).message}`;
    await finishJob(deps, d.rootId, { status: 'failed', error: { code, message } });
    throw new UnrecoverableError((err as Error).message);
  } finally {
    active.delete(job.id!);
    if (active.size === 0) deps.activeChunks.delete(d.rootId);
  }
}

/** First-round chunks carry the progress to 90 %; later rounds and the final call the rest. */
async function reportProgress(deps: SummarizeDeps, d: ChunkData) {
  if (d.level > 0) return deps.repository.raiseProgress(d.rootId, 90 + Math.min(d.level, 3) * 3);
  const key = `{job:${d.rootId}}:chunks-done`;
  const [, [, done]] = (await deps.redis.multi().sadd(key, d.index).scard(key).expire(key, 24 * 3600).exec()) as [unknown, [unknown, number]];
  await deps.repository.raiseProgress(d.rootId, (90 * done) / d.count);
}

async function finishJob(deps: SummarizeDeps, jobId: string, outcome: SummarizeOutcome) {
  const { ended, callback, batchId } = await deps.repository.finish(jobId, outcome);
  if (ended && callback) {
    await enqueueCallback(deps.webhooks, deps.config, jobId).catch((err) =>
      deps.logger.warn({ jobId, err: (err as Error).message }, 'callback enqueue failed; the reconciler will retry it'),
    );
  }
  // The item that ends its batch last ends the batch (once: the update is guarded) → one callback.
  if (ended && batchId && (await deps.repository.finishBatchIfDone(batchId))) {
    await enqueueBatchCallback(deps.webhooks, deps.config, batchId).catch((err) =>
      deps.logger.warn({ batchId, err: (err as Error).message }, 'batch callback enqueue failed; the reconciler will retry it'),
    );
  }
}

/** The usage with its cost at the model's catalog prices (`usage.costUsd`). */
function withCost(outcome: SummarizeOutcome, model: ModelEntry | undefined): SummarizeOutcome {
  if (!outcome.usage || !model) return outcome;
  const costUsd = costOf(model, outcome.usage);
  return costUsd === null ? outcome : { ...outcome, usage: { ...outcome.usage, costUsd: Math.round(costUsd * 1e8) / 1e8 } } as SummarizeOutcome;
}

async function sourceText(extractor: DocumentExtractor, input: StoredSummarizeInput, signal: AbortSignal | undefined): Promise<string> {
  const parts: string[] = [];
  if (input.text) parts.push(input.text);
  for (const doc of input.documents ?? []) {
    const text = await extractor.extract(doc.format, Buffer.from(doc.data, 'base64'), doc.name, signal);
    parts.push((input.documents!.length > 1 || input.text ? `# ${doc.name}\n\n` : '') + text);
  }
  return parts.join('\n\n');
}

const wordsClause = (input: StoredSummarizeInput) => (input.maxWords ? ` in at most ${input.maxWords} words` : '');
const instructionsClause = (instructions: string | undefined) => (instructions ? `\n\nInstructions: ${instructions}` : '');

function singlePrompt(text: string, input: StoredSummarizeInput) {
  return `Summarize the text below${wordsClause(input)}.\n\n<text>\n${text}\n</text>${instructionsClause(input.instructions)}`;
}

/** Chunk calls of one job and level share this prefix (system, task, instructions): cacheable. */
function chunkSystem(d: ChunkData) {
  const task =
    d.level === 0
      ? 'You get one part of a longer document. Summarize the part, keeping its key facts, names, figures and decisions.'
      : 'You get summaries of consecutive parts of one document. Merge them into one shorter summary, keeping the key facts.';
  return `${system}\n\n${task}${instructionsClause(d.instructions)}`;
}

function chunkPrompt(d: ChunkData) {
  const label = d.level === 0 ? `Part ${d.index + 1} of ${d.count} of the document.` : `Group ${d.index + 1} of ${d.count} of part summaries.`;
  return `${label}\n\n<text>\n${d.text}\n</text>`;
}

function combinePrompt(summaries: string, input: StoredSummarizeInput) {
  return (
    `These are summaries of consecutive parts of one document, in order. Write one coherent summary of the whole document${wordsClause(input)}.` +
    `\n\n<summaries>\n${summaries}\n</summaries>${instructionsClause(input.instructions)}`
  );
}

function finalMaxTokens(model: ModelEntry, input: StoredSummarizeInput) {
  return Math.min(model.maxOutputTokens, input.maxWords ? Math.ceil(input.maxWords * 1.6) + 64 : 2048);
}

function sumUsage(items: ({ usage?: Usage } | undefined)[]): Usage {
  return items.reduce<Usage>(
    (sum, i) => ({
      inputTokens: sum.inputTokens + (i?.usage?.inputTokens ?? 0),
      outputTokens: sum.outputTokens + (i?.usage?.outputTokens ?? 0),
      ...((sum.cacheReadTokens ?? 0) + (i?.usage?.cacheReadTokens ?? 0) ? { cacheReadTokens: (sum.cacheReadTokens ?? 0) + (i?.usage?.cacheReadTokens ?? 0) } : {}),
      ...((sum.cacheWriteTokens ?? 0) + (i?.usage?.cacheWriteTokens ?? 0) ? { cacheWriteTokens: (sum.cacheWriteTokens ?? 0) + (i?.usage?.cacheWriteTokens ?? 0) } : {}),
    }),
    { ...zero },
  );
}

/** Errors from the SDK carry $metadata; anything else (Redis, Postgres) is ours and worth a retry. */
function isBedrockError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && '$metadata' in err;
}
