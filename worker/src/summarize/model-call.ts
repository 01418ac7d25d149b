import { type BedrockRuntimeClient, ConverseCommand, type ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import type { Job } from 'bullmq';
import type { SQL, SQLWrapper } from 'drizzle-orm';
import type { Logger } from '@switchboard/server-core';
import type { EffortLevel, ModelEntry, Usage } from '@switchboard/contracts';
import { BudgetExceededError, buildTextInput, costOf, type LedgerPurpose, type QuotaGovernor, usageFrom } from '@switchboard/server-core';
import { sendToBedrock } from '../bedrock/bedrock-client.js';
import { workerMetrics } from '../metrics/worker-metrics.js';
import {
  admitOrWait,
  auditSpend,
  estimateTokens,
  isThrottle,
  type LaneQueues,
  type Reservation,
  settleCalls,
  type Spending,
  waitAfterThrottle,
} from '../quota/admission.js';

export type BatchQuota = { governor: QuotaGovernor; laneQueues: LaneQueues };

export type ModelCallContext = {
  bedrock: BedrockRuntimeClient;
  job: Job;
  token: string | undefined;
  signal: AbortSignal | undefined;
  owner: string;
  /** The shared quota governor; every batch call waits its turn in the `batch` lane. */
  quota?: BatchQuota;
  /** The job's logger (its jobId and requestId): each call logs Bedrock's request id. */
  log?: Logger;
  /** Who pays (budgets, shares, usage ledger); absent = nothing recorded or checked. */
  spending?: Spending;
};

export type ModelCall = {
  model: ModelEntry;
  system: string;
  prompt: string;
  maxTokens: number;
  purpose: LedgerPurpose;
  /** The effort asked for, where the model takes it (see buildTextInput). */
  effort?: EffortLevel;
  /** A write built from the answer (with RETURNING) to go in one statement with the call's ledger row. */
  writeWith?: (text: string) => SQLWrapper | undefined;
};
/** `written`: the row count of `writeWith`'s write; undefined when it was not written here. */
export type ModelAnswer = { text: string; usage: Usage; stopReason: string; written?: number };

/**
 * The one Bedrock call of batch summarization (every chunk, combine and single-pass summary).
 * Admission may park the job (BullMQ DelayedError, no attempt spent); aborting the signal (a
 * cancel) stops generation at Bedrock.
 */
export async function callModel(ctx: ModelCallContext, call: ModelCall): Promise<ModelAnswer> {
  // The system prompt (with the job's instructions) is the prefix every chunk call shares: cached
  // when the model caches and it is long enough.
  const input = buildTextInput({
    model: call.model,
    system: call.system,
    prompt: call.prompt,
    maxTokens: call.maxTokens,
    temperature: 0.2,
    ...(call.effort ? { effort: call.effort } : {}),
  }) as ConverseCommandInput;
  const quota = ctx.quota;
  let reservation: Reservation | undefined;
  try {
    reservation = quota
      ? await admitOrWait(quota.governor, ctx.job, ctx.token, {
          model: call.model,
          lane: 'batch',
          owner: ctx.owner,
          tokens: estimateTokens(input, call.model),
          maxOutputTokens: call.maxTokens,
          ...(ctx.spending ? { spend: { payer: ctx.spending.payer } } : {}),
        })
      : undefined;
  } catch (err) {
    if (err instanceof BudgetExceededError) await auditSpend(ctx.spending, { refused: err, modelId: call.model.id });
    throw err;
  }
  if (reservation?.warnedBudgetId) void auditSpend(ctx.spending, { warnedBudgetId: reservation.warnedBudgetId, modelId: call.model.id });
  let response;
  const metered = workerMetrics().startCall(call.model.id);
  try {
    response = await sendToBedrock(ctx.bedrock, new ConverseCommand(input), ctx.signal);
  } catch (err) {
    metered.done(ctx.signal?.aborted ? 'cancelled' : isThrottle(err) ? 'throttled' : 'error');
    ctx.log?.warn({ bedrockRequestId: (err as { $metadata?: { requestId?: string } })?.$metadata?.requestId, err: { name: (err as Error).name } }, 'bedrock call failed');
    if (quota && reservation) {
      if (isThrottle(err) && !ctx.signal?.aborted) await waitAfterThrottle(quota.governor, ctx.job, ctx.token, reservation, err);
      await quota.governor.release(call.model.id, reservation.reservationId).catch(() => undefined);
    }
    throw err;
  }
  const text = (response.output?.message?.content ?? []).map((b) => b.text ?? '').join('');
  const usage = usageFrom(response.usage);
  metered.done('ok', usage, costOf(call.model, usage));
  ctx.log?.info({ bedrockRequestId: response.$metadata.requestId, model: call.model.id, usage }, 'bedrock call done');
  let written: number | undefined;
  if (quota && reservation) {
    // The ledger row is written before the answer is used: a crash after it cannot lose the call.
    // Bedrock counted the call when it arrived, before this answer: the reservation is re-dated to now.
    const write = call.writeWith?.(text);
    const repository = ctx.spending?.repository;
    written = await settleCalls(quota.governor, quota.laneQueues, ctx.spending, reservation, call.model, [{ purpose: call.purpose, usage }], {
      quotaUsage: usage,
      redate: true,
      ...(ctx.log ? { log: ctx.log } : {}),
      ...(write && repository ? { recordIn: (ledger: SQL | undefined) => repository.recordWith(ledger, write) } : {}),
    });
  }
  return { text, usage, stopReason: response.stopReason ?? 'end_turn', ...(written !== undefined ? { written } : {}) };
}
