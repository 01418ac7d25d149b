import { type BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { type Job, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ModelEntry, Usage } from '@switchboard/contracts';
import {
  appendToJobStream,
  cancelKey,
  type ChatJobData,
  type Logger,
  publishJobStatus,
  type QuotaGovernor,
  readJobStream,
} from '@switchboard/server-core';
import { errorCodeOf, isRetryableBedrockError } from '../bedrock/bedrock-client.js';
import { admitOrWait, estimateTokens, isThrottle, type LaneQueues, type QuotaJobData, type Reservation, settle, waitAfterThrottle } from '../quota/admission.js';
import { DeltaWriter } from '../streaming/delta-writer.js';
import { type ChatTurnsRepository, type TurnOutcome } from './chat-turns.repository.js';
import { buildConverseRequest } from './converse-request.js';

export type ChatProcessorDeps = {
  redis: Redis;
  bedrock: BedrockRuntimeClient;
  governor: QuotaGovernor;
  laneQueues: LaneQueues;
  turns: ChatTurnsRepository;
  models: () => readonly ModelEntry[];
  logger: Logger;
};

type ChatJob = Job<ChatJobData & QuotaJobData>;

/**
 * One chat turn: wait for the model's quota, stream the answer from Bedrock into the job's Redis
 * stream, then store it in Postgres and write the terminal entry. A retry continues after what
 * earlier attempts delivered, so seq stays contiguous and no text repeats.
 */
export function createChatProcessor(deps: ChatProcessorDeps) {
  return async (job: ChatJob, token?: string, signal?: AbortSignal): Promise<void> => {
    const data = job.data;
    const log = deps.logger.child({ jobId: data.jobId, requestId: data.requestId, attempt: job.attemptsMade + 1 });

    // Independent reads go out together: each round trip here adds to the time to first token.
    const [previous, cancelAsked] = await Promise.all([
      readJobStream(deps.redis, data.jobId, 0),
      deps.redis.exists(cancelKey(data.jobId)),
    ]);
    if (previous.some((e) => e.kind !== 'delta')) return; // ended in an earlier attempt
    const delivered = previous.map((e) => (e.kind === 'delta' ? e.text : '')).join('');
    const writer = new DeltaWriter(deps.redis, data.jobId, previous.at(-1)?.seq ?? 0);
    const finish = (outcome: TurnOutcome) => finishTurn(deps, data, writer, outcome);
    if (cancelAsked) return void (await finish({ status: 'cancelled', text: delivered, stopReason: 'cancelled', usage: null }));

    const model = deps.models().find((m) => m.id === data.modelId);
    if (!model) {
      await finish(failed(delivered, 'model_not_found', `Model ${data.modelId} is no longer in the catalog`));
      throw new UnrecoverableError('model not in catalog');
    }
    // The history is read once to estimate the call's tokens; later trips through the line reuse the estimate.
    const load = () =>
      Promise.all([deps.turns.conversation(data.conversationId), deps.turns.history(data.conversationId, data.userMessageId)]);
    let loaded = data.quotaTokens === undefined ? await load() : undefined;
    const request = ([conversation, history]: Awaited<ReturnType<typeof load>>) =>
      conversation && buildConverseRequest({ model, systemPrompt: conversation.systemPrompt, history, params: data.params, delivered });
    const firstInput = loaded && request(loaded);
    if (loaded && !firstInput) return; // deleted meanwhile: nothing to store the answer in

    let reservation: Reservation;
    try {
      reservation = await admitOrWait(deps.governor, job, token, {
        model,
        lane: 'chat',
        owner: data.owner,
        tokens: data.quotaTokens ?? estimateTokens(firstInput!),
        onWaiting: (position) => publishJobStatus(deps.redis, data.jobId, { state: 'queued', position }),
      });
    } catch (err) {
      if (err instanceof UnrecoverableError) await finish(failed(delivered, 'content_too_large', err.message));
      throw err;
    }
    loaded ??= await load();
    const input = firstInput ?? request(loaded);
    if (!input) return void (await deps.governor.release(model.id, reservation.reservationId));
    if (!(await deps.turns.markActive(data.jobId))) {
      await deps.governor.release(model.id, reservation.reservationId);
      return void (await finish({ status: 'cancelled', text: delivered, stopReason: 'cancelled', usage: null }));
    }
    const status = job.attemptsMade > 0 ? { state: 'retrying' as const, attempt: job.attemptsMade + 1 } : { state: 'active' as const };
    publishJobStatus(deps.redis, data.jobId, status).catch((err) => log.warn({ err }, 'status publish failed'));

    let stopReason = 'end_turn';
    let usage: Usage | null = null;
    try {
      const response = await deps.bedrock.send(new ConverseStreamCommand(input), { abortSignal: signal });
      await deps.governor.redate(model.id, reservation.reservationId);
      for await (const event of response.stream ?? []) {
        if (event.contentBlockDelta?.delta?.text) writer.push(event.contentBlockDelta.delta.text);
        else if (event.messageStop) stopReason = event.messageStop.stopReason ?? stopReason;
        else if (event.metadata?.usage) {
          usage = { inputTokens: event.metadata.usage.inputTokens ?? 0, outputTokens: event.metadata.usage.outputTokens ?? 0 };
        }
      }
      await writer.flush();
      // An aborted stream may simply end instead of throwing.
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    } catch (err) {
      await writer.flush().catch(() => undefined);
      const text = delivered + writer.text;
      if (signal?.aborted) {
        log.info({ chars: text.length }, 'chat cancelled; keeping the partial answer');
        await finish({ status: 'cancelled', text, stopReason: 'cancelled', usage });
        return;
      }
      // Throttled before any text: back to the line with the same place, no attempt spent.
      if (isThrottle(err) && writer.text === '') {
        log.warn('bedrock throttled the call; backing off the model');
        await waitAfterThrottle(deps.governor, job, token, reservation, err);
      }
      const retryable = isRetryableBedrockError(err);
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      log.warn({ err: { name: (err as Error).name, message: (err as Error).message }, retryable, lastAttempt }, 'bedrock call failed');
      if (retryable && !lastAttempt) throw err;
      await finish(failed(text, errorCodeOf(err), (err as Error).message ?? 'Bedrock call failed', retryable));
      throw new UnrecoverableError((err as Error).message);
    } finally {
      await settle(deps.governor, deps.laneQueues, reservation, usage).catch((err) => log.warn({ err }, 'quota settle failed'));
    }
    await finish({ status: 'completed', text: delivered + writer.text, stopReason, usage });
    log.info({ stopReason, usage }, 'chat completed');
  };
}

function failed(text: string, code: string, message: string, retryable = false): TurnOutcome & { retryable: boolean } {
  return { status: 'failed', text, stopReason: null, usage: null, error: { code, message }, retryable };
}

/** Postgres first (the record), then the terminal stream entry that clients turn into done/error. */
async function finishTurn(
  deps: ChatProcessorDeps,
  data: ChatJobData,
  writer: DeltaWriter,
  outcome: TurnOutcome & { retryable?: boolean },
) {
  if (!(await deps.turns.finish(data.jobId, data.assistantMessageId, outcome))) return;
  const seq = writer.nextSeq();
  if (outcome.status === 'failed') {
    await appendToJobStream(deps.redis, data.jobId, {
      kind: 'error',
      seq,
      event: { code: outcome.error!.code, message: outcome.error!.message, retryable: outcome.retryable ?? false },
    });
    return;
  }
  await appendToJobStream(deps.redis, data.jobId, {
    kind: 'done',
    seq,
    event: {
      conversationId: data.conversationId,
      messageId: data.assistantMessageId,
      stopReason: outcome.stopReason ?? 'end_turn',
      usage: outcome.usage ?? { inputTokens: 0, outputTokens: 0 },
      text: outcome.text,
    },
  });
}
