import type { ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { DelayedError, type Job, type Queue, UnrecoverableError } from 'bullmq';
import type { SQL } from 'drizzle-orm';
import { inputCountingOf, type ModelEntry, outputBurndownOf, quotaTokensOf, type Usage } from '@switchboard/contracts';
import {
  BudgetExceededError,
  ChatQueues,
  costOf,
  type Lane,
  type LedgerEntry,
  type LedgerPurpose,
  type Logger,
  type Payer,
  periodEnd,
  type QuotaGovernor,
  type SpendRepository,
  subjectsOf,
  tokensOf,
  worstCaseCostUsd,
} from '@switchboard/server-core';
import { workerMetrics } from '../metrics/worker-metrics.js';
import { estimateImageTokens, estimateTextTokens } from './input-tokens.js';

/** What a job carries across its trips through the line. */
export type QuotaJobData = { quotaPlace?: string; quotaTokens?: number; quotaMaxOutput?: number; throttles?: number };

export type Reservation = { modelId: string; reservationId: string; place: string; warnedBudgetId?: string };

/** Who pays for a job's calls and where they are recorded (usage ledger, budgets). */
export type Spending = { repository: SpendRepository; payer: Payer; jobId?: string; conversationId?: string };

/** Longest a waiting job sleeps before asking again: chats often, so their position stays fresh. */
const pollMs: Record<Lane, number> = { chat: 1000, batch: 5000 };

/**
 * Reserves quota for one Bedrock call or parks the job: it goes back to BullMQ's delayed set until
 * its turn (DelayedError costs no attempt) and the worker slot is free for other jobs and models.
 */
export async function admitOrWait(
  governor: QuotaGovernor,
  job: Job<QuotaJobData & object>,
  token: string | undefined,
  req: {
    model: ModelEntry;
    lane: Lane;
    owner: string;
    /** The call's input (estimated) plus the most it may produce (see estimateTokens). */
    tokens: number;
    /** The most the call may produce (its maxTokens). */
    maxOutputTokens: number;
    onWaiting?: (position: number) => Promise<void>;
    /** Budgets and shares: who pays. */
    spend?: { payer: Payer };
  },
): Promise<Reservation> {
  const spend = req.spend && {
    subjects: subjectsOf(req.spend.payer),
    worstTokens: req.tokens,
    worstCostUsd: worstCaseCostUsd(req.model, Math.max(0, req.tokens - req.maxOutputTokens), req.maxOutputTokens),
  };
  // Bedrock reserves the output at the model's burndown rate (5 × for Claude 3.7 and 4.x).
  const quotaTokens = req.tokens + req.maxOutputTokens * (outputBurndownOf(req.model) - 1);
  const admission = await governor.admit({
    modelId: req.model.id,
    quota: req.model.quota,
    jobId: job.id!,
    owner: req.owner,
    lane: req.lane,
    tokens: quotaTokens,
    keepPlace: job.data.quotaPlace,
    ...(spend ? { spend } : {}),
  });
  const metrics = workerMetrics();
  if (admission.admitted) {
    metrics.admissions.inc({ model: req.model.id, lane: req.lane });
    // Queue wait once per job (a retry's backoff is not waiting for quota).
    if (job.attemptsMade === 0 && job.timestamp) metrics.queueWait.observe({ lane: req.lane }, Math.max(0, Date.now() - job.timestamp) / 1000);
    return { modelId: req.model.id, reservationId: admission.reservationId, place: admission.place, ...(admission.warnedBudgetId ? { warnedBudgetId: admission.warnedBudgetId } : {}) };
  }
  if ('budgetExceeded' in admission) {
    throw new BudgetExceededError(admission.budgetExceeded.budgetId, periodEnd(admission.budgetExceeded.period, new Date()));
  }
  if (!('never' in admission)) metrics.deferrals.inc({ model: req.model.id, lane: req.lane });
  if ('never' in admission) {
    throw new UnrecoverableError(
      `The request needs about ${quotaTokens} tokens of quota, more than ${req.model.name}'s whole quota of ${req.model.quota.tokensPerMinute} per minute`,
    );
  }
  await req.onWaiting?.(admission.position);
  // Spread by place in line so a reopening window is not met by everyone at once.
  const wait = Math.min(admission.retryInMs, pollMs[req.lane]) + Math.min(admission.position * 3, 500) + Math.random() * 20;
  return park(job, token, wait, { quotaPlace: admission.place, quotaTokens: req.tokens, quotaMaxOutput: req.maxOutputTokens });
}

/** Bedrock throttled the call anyway: give the reservation back, hold the model, wait with the same place. */
export async function waitAfterThrottle(
  governor: QuotaGovernor,
  job: Job<QuotaJobData & object>,
  token: string | undefined,
  reservation: Reservation,
  err: unknown,
): Promise<never> {
  const throttles = (job.data.throttles ?? 0) + 1;
  const backOffMs = retryHintMs(err) ?? Math.min(1000 * 2 ** (throttles - 1), 30_000);
  await governor.release(reservation.modelId, reservation.reservationId);
  await governor.backOff(reservation.modelId, backOffMs);
  return park(job, token, backOffMs + Math.random() * 250, { quotaPlace: reservation.place, throttles });
}

/** Where each lane's jobs wait, to wake them when quota frees earlier than foreseen (chats: by model). */
export type LaneQueues = { chat?: Queue | ChatQueues; batch?: Queue };

/**
 * The calls made under a reservation ended: one ledger row each (idempotent: the reservation id and
 * purpose are the key), then one step in Redis (issue 19: one round trip): the reservation holds
 * what the calls used (`quotaUsage`; null: unknown, it keeps what it reserved), the budget
 * reservation becomes what they cost, once (released when nothing reached Bedrock), and the head
 * of the line comes back, to be woken: the tokens this frees were foreseen by nobody. `redate`: the
 * call has just ended (a non-streamed call), so its reservation is re-dated in the same step.
 * `recordIn`: the caller's statement writes the ledger rows (SpendRepository.ledgerWrite) together
 * with its own, in one round trip; its result is returned.
 * A ledger failure is thrown after the settle; a settle failure is only logged.
 */
export async function settleCalls<T>(
  governor: QuotaGovernor,
  queues: LaneQueues,
  spending: Spending | undefined,
  reservation: Reservation,
  model: ModelEntry,
  calls: { purpose: LedgerPurpose; usage: Usage | null }[],
  options: { quotaUsage: Usage | null; redate?: boolean; log?: Logger; recordIn?: (ledger: SQL | undefined) => Promise<T> },
): Promise<T | undefined> {
  let cost = 0;
  let tokens = 0;
  for (const call of calls) {
    if (!call.usage) continue;
    cost += costOf(model, call.usage) ?? 0;
    tokens += tokensOf(call.usage);
  }
  let ledgerFailure: unknown;
  let recorded: T | undefined;
  try {
    const entries: LedgerEntry[] = [];
    for (const call of calls) {
      if (!call.usage || !spending) continue;
      entries.push({
        reservationId: reservation.reservationId,
        purpose: call.purpose,
        payer: spending.payer,
        model,
        usage: call.usage,
        costUsd: costOf(model, call.usage) ?? 0,
        ...(spending.jobId ? { jobId: spending.jobId } : {}),
        ...(spending.conversationId ? { conversationId: spending.conversationId } : {}),
        ...(reservation.warnedBudgetId ? { budgetFlag: 'warn' } : {}),
      });
    }
    if (options.recordIn) recorded = await options.recordIn(spending?.repository.ledgerWrite(entries));
    else await spending?.repository.record(...entries);
  } catch (err) {
    ledgerFailure = err;
  }
  // Even when the ledger write failed: a reservation left standing would hold others' calls back.
  try {
    const used = options.quotaUsage && quotaTokensOf(model, options.quotaUsage);
    const head = await governor.settle(reservation.modelId, reservation.reservationId, used, 3, { budget: { costUsd: cost, tokens }, redate: options.redate });
    for (const { lane, jobId } of head) {
      const lineQueue = queues[lane];
      const queue = lineQueue instanceof ChatQueues ? lineQueue.for(reservation.modelId) : lineQueue;
      const job = queue && (await queue.getJob(jobId));
      // Only a delayed job can be promoted; one already running or gone is fine as it is.
      if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
    }
  } catch (err) {
    options.log?.warn({ err }, 'quota settle failed');
  }
  if (ledgerFailure) throw ledgerFailure;
  return recorded;
}

/** A call refused or let through over a budget: noted in the audit log (best effort). */
export async function auditSpend(spending: Spending | undefined, what: { refused?: BudgetExceededError; warnedBudgetId?: string; modelId: string }) {
  if (!spending) return;
  await spending.repository
    .audit({
      actor: spending.payer.principal,
      action: what.refused ? 'call.refused' : 'budget.warned',
      target: spending.jobId ? `job:${spending.jobId}` : undefined,
      details: { code: what.refused ? 'budget_exceeded' : 'budget_warn', budgetId: what.refused?.budgetId ?? what.warnedBudgetId, modelId: what.modelId },
    })
    .catch(() => undefined);
}

export function isThrottle(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'ThrottlingException' || e?.$metadata?.httpStatusCode === 429;
}

/** What the estimates need of a model: its id and catalog tokenizer ratio (see inputCountingOf). */
type CountedModel = Parameters<typeof inputCountingOf>[0];

/**
 * Tokens a Converse call may use: the input (estimated on the safe side: 3.5 characters per Claude
 * 3 token scaled by the model's tokenizer ratio, each image by its size, documents by size) plus
 * maxTokens. Of the model's quota, Bedrock reserves the maxTokens part at the model's burndown rate
 * (admitOrWait).
 */
export function estimateTokens(input: ConverseStreamCommandInput, model: CountedModel): number {
  return estimateInputTokens(input, model) + (input.inferenceConfig?.maxTokens ?? 4096);
}

/** The input part of estimateTokens. */
export function estimateInputTokens(input: ConverseStreamCommandInput, model: CountedModel): number {
  const counting = inputCountingOf(model);
  let chars = 0;
  let media = 0;
  for (const block of input.system ?? []) chars += block.text?.length ?? 0;
  for (const message of input.messages ?? []) {
    for (const block of message.content ?? []) {
      if (block.text) chars += block.text.length;
      else if (block.image) media += block.image.source?.bytes ? estimateImageTokens(block.image.source.bytes, counting.images) : counting.images.maxTokens;
      else if (block.document) media += Math.max(1500, Math.ceil((block.document.source?.bytes?.length ?? 0) / 6));
    }
  }
  return estimateTextTokens(chars, counting) + media;
}

function retryHintMs(err: unknown): number | undefined {
  const headers = (err as { $response?: { headers?: Record<string, string> } })?.$response?.headers ?? {};
  const seconds = Number(headers['retry-after'] ?? headers['x-amz-retry-after']);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

async function park(job: Job<QuotaJobData & object>, token: string | undefined, waitMs: number, data: QuotaJobData): Promise<never> {
  await job.updateData({ ...job.data, ...data });
  await job.moveToDelayed(Date.now() + Math.ceil(waitMs), token);
  throw new DelayedError();
}
