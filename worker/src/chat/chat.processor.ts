import { type BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { DelayedError, type Job, type Queue, UnrecoverableError } from 'bullmq';
import type { SQL } from 'drizzle-orm';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { type Block, inputCountingOf, type ModelEntry, textOf, type Usage } from '@switchboard/contracts';
import {
  attemptNumber,
  BudgetExceededError,
  type ChatEnding,
  costOf,
  type ChatJobData,
  type ConversationRow,
  endJobStream,
  enqueueTitle,
  type FirstTurn,
  isCancelRequested,
  isFinalAttempt,
  type MessageRow,
  type Logger,
  isAutomaticTitle,
  lostEnding,
  publishConversationUpdate,
  publishJobStatus,
  type QuotaGovernor,
  readJobStream,
  opsRecorder,
  type SpendRepository,
  stampNow,
  StreamTakenError,
  type TitleJobData,
  usageFrom,
} from '@switchboard/server-core';
import { errorCodeOf, isRetryableBedrockError, sendToBedrock } from '../bedrock/bedrock-client.js';
import { handOverOf } from '../lifecycle/hand-over.js';
import { workerMetrics } from '../metrics/worker-metrics.js';
import {
  admitOrWait,
  auditSpend,
  estimateInputTokens,
  estimateTokens,
  isThrottle,
  type LaneQueues,
  type QuotaJobData,
  type Reservation,
  settleCalls,
  type Spending,
  waitAfterThrottle,
} from '../quota/admission.js';
import { DeltaWriter } from '../streaming/delta-writer.js';
import { type ChatTurnsRepository, type TurnOutcome } from './chat-turns.repository.js';
import { branchOf, buildCompressRequest, buildConverseRequest, type HistoryPlan, planHistory } from './converse-request.js';

export type ChatProcessorDeps = {
  redis: Redis;
  /**
   * The answers' appends (one EVALSHA per batch, written at once; see createRedis). Only appends:
   * with the processor's reads and status publishes on it too, the RPM quota test lost half its
   * utilization (waiting jobs came back late) back when this connection auto-pipelined.
   */
  streams: Redis;
  bedrock: BedrockRuntimeClient;
  governor: QuotaGovernor;
  laneQueues: LaneQueues;
  turns: ChatTurnsRepository;
  models: () => readonly ModelEntry[];
  logger: Logger;
  /** Where conversations go to get a model-written title after an exchange (absent: first words stay). */
  titles?: Queue<TitleJobData>;
  queuePrefix?: string;
  /** Usage ledger and audit; budgets and shares are checked at admission with it. */
  spend?: SpendRepository;
  /** Timing stamps in the answer's stream entries, for bench:chat's per-hop timings (STREAM_STAMPS). */
  stamps?: boolean;
};

type ChatJob = Job<ChatJobData & QuotaJobData>;

/** How long a job waits before continuing when another attempt was writing its answer (StreamTakenError). */
const takenBackoffMs = 1000;

/**
 * One chat turn: wait for the model's quota, stream the answer from Bedrock into the job's Redis
 * stream, then store it in Postgres and write the terminal entry. A retry continues after what
 * earlier attempts delivered, so seq stays contiguous and no text repeats.
 */
export function createChatProcessor(deps: ChatProcessorDeps) {
  return async (job: ChatJob, token?: string, signal?: AbortSignal): Promise<void> => {
    const pickedAt = stampNow();
    const data = job.data;
    const log = deps.logger.child({ jobId: data.jobId, requestId: data.requestId, attempt: attemptNumber(job) });

    const model = deps.models().find((m) => m.id === data.modelId);
    // The history is read once to estimate the call's tokens; later trips through the line reuse the estimate.
    const load = () =>
      Promise.all([deps.turns.conversation(data.conversationId), deps.turns.history(data.conversationId, data.userMessageId)]);
    type Loaded = Awaited<ReturnType<typeof load>>;
    const plan = ([conversation, all]: Loaded) =>
      conversation && planHistory(branchOf(all, data.userMessageId), conversation, data.params, inputCountingOf(model!));
    const requestWith = ([conversation]: Loaded, p: HistoryPlan, delivered: string, thinking: boolean) =>
      buildConverseRequest({
        model: model!,
        systemPrompt: conversation!.systemPrompt,
        history: p.recent,
        summary: p.summary,
        params: data.params,
        delivered,
        thinking,
      });
    // A first turn carries what its call needs (ChatJobData.first): no Postgres read before the
    // call, and the admission goes out together with the stream and cancel reads (one round trip).
    // Its estimate assumes nothing was delivered yet; a continued answer's prefill is output that
    // maxTokens already counts.
    const spending: Spending | undefined = deps.spend && {
      repository: deps.spend,
      payer: { principal: data.owner, kind: 'person', groups: data.groups ?? [] },
      jobId: data.jobId,
      conversationId: data.conversationId,
    };
    const carried: Loaded | undefined = data.quotaTokens === undefined && data.first ? (carriedTurn(data, data.first) as Loaded) : undefined;
    const carriedRequest = carried && model ? requestWith(carried, plan(carried)!, '', true) : undefined;
    const earlyAdmission =
      carriedRequest && model
        ? admitOrWait(deps.governor, job, token, {
            model,
            lane: 'chat',
            owner: data.owner,
            tokens: estimateTokens(carriedRequest, model),
            // Quota and budgets reserve the worst case: the estimated input plus every output token the call may produce.
            maxOutputTokens: carriedRequest.inferenceConfig?.maxTokens ?? 4096,
            onWaiting: (position) => publishJobStatus(deps.redis, data.jobId, { state: 'queued', position }),
            ...(spending ? { spend: { payer: spending.payer } } : {}),
          }).then(
            (reservation) => ({ reservation }),
            (err: unknown) => ({ err }),
          )
        : undefined;
    // Independent reads go out together: each round trip here adds to the time to first token.
    const [previous, cancelAsked, firstLoad, admitted] = await Promise.all([
      readJobStream(deps.redis, data.jobId, 0),
      isCancelRequested(deps.redis, data.jobId),
      carried ?? (data.quotaTokens === undefined ? load() : undefined),
      earlyAdmission,
    ]);
    // Parked in the model's line: it comes back later (and then sees an ending or a cancel).
    if (admitted && 'err' in admitted && admitted.err instanceof DelayedError) throw admitted.err;
    const giveBack = async () => {
      if (admitted && 'reservation' in admitted) await deps.governor.release(admitted.reservation.modelId, admitted.reservation.reservationId);
    };
    if (previous.some((e) => e.kind !== 'delta')) return void (await giveBack()); // ended in an earlier attempt
    const delivered = previous.map((e) => (e.kind === 'delta' ? e.text : '')).join('');
    const deliveredReasoning = previous.map((e) => (e.kind === 'delta' ? (e.reasoning ?? '') : '')).join('');
    // A retry after anything went out continues without thinking: Bedrock refuses a prefill with
    // thinking on, and thinking again would repeat what the client already shows.
    const thinking = delivered === '' && deliveredReasoning === '';
    const writer = new DeltaWriter(deps.streams, data.jobId, previous.at(-1)?.seq ?? 0);
    writer.stamps = deps.stamps ?? false;
    const finish = (outcome: TurnOutcome, ledger?: SQL) => finishTurn(deps, data, writer, outcome, ledger);
    if (cancelAsked) {
      await giveBack();
      return void (await finish({ status: 'cancelled', text: delivered, reasoning: deliveredReasoning, stopReason: 'cancelled', usage: null }));
    }

    if (!model) {
      await finish(failed(delivered, 'model_not_found', `Model ${data.modelId} is no longer in the catalog`));
      throw new UnrecoverableError('model not in catalog');
    }
    const request = (l: Loaded, p: HistoryPlan) => requestWith(l, p, delivered, thinking);
    // Compression only before any text went out: a continued answer keeps the context it started with.
    const compressionOf = (p: HistoryPlan) => (delivered === '' ? p.compress : undefined);
    let loaded = firstLoad;
    const firstPlan = loaded && plan(loaded);
    if (loaded && !firstPlan) return; // deleted meanwhile: nothing to store the answer in
    // One reservation covers the compression call too: it is bounded by the history it replaces.
    const firstRequest = firstPlan && request(loaded!, firstPlan);
    const firstCompress = firstPlan && compressionOf(firstPlan) ? buildCompressRequest(model, firstPlan.summary, firstPlan.compress!.covered) : undefined;
    const firstTokens = firstRequest ? estimateTokens(firstRequest, model) + (firstCompress ? estimateTokens(firstCompress, model) : 0) : undefined;
    // Quota and budgets reserve the worst case: the estimated input plus every output token the calls may produce.
    const firstMaxOutput = firstRequest
      ? (firstRequest.inferenceConfig?.maxTokens ?? 4096) + (firstCompress ? (firstCompress.inferenceConfig?.maxTokens ?? 4096) : 0)
      : undefined;

    let reservation: Reservation;
    try {
      if (admitted) {
        if ('err' in admitted) throw admitted.err;
        reservation = admitted.reservation;
      } else {
        reservation = await admitOrWait(deps.governor, job, token, {
          model,
          lane: 'chat',
          owner: data.owner,
          tokens: data.quotaTokens ?? firstTokens!,
          maxOutputTokens: data.quotaMaxOutput ?? firstMaxOutput ?? 4096,
          onWaiting: (position) => publishJobStatus(deps.redis, data.jobId, { state: 'queued', position }),
          ...(spending ? { spend: { payer: spending.payer } } : {}),
        });
      }
    } catch (err) {
      if (err instanceof UnrecoverableError) await finish(failed(delivered, 'content_too_large', err.message));
      if (err instanceof BudgetExceededError) {
        // Final: a retry would be refused the same way until the period ends or an admin raises it.
        await auditSpend(spending, { refused: err, modelId: model.id });
        await finish(failed(delivered, 'budget_exceeded', err.message));
        throw new UnrecoverableError(err.message);
      }
      throw err;
    }
    if (reservation.warnedBudgetId) void auditSpend(spending, { warnedBudgetId: reservation.warnedBudgetId, modelId: model.id });
    loaded ??= await load();
    let history = firstPlan ?? plan(loaded);
    if (!history) return void (await deps.governor.release(model.id, reservation.reservationId));
    // Whether the job is still open is checked while the call goes out (one round trip less before
    // the first token); if it ended meanwhile (cancelled), the call is stopped like any cancel.
    const ended = new AbortController();
    const callSignal = signal ? AbortSignal.any([signal, ended.signal]) : ended.signal;
    let checkFailure: unknown;
    const checkingOpen = deps.turns.isOpen(data.jobId).then(
      (open) => void (open || ended.abort(new Error('the job ended before its call'))),
      (err: unknown) => {
        checkFailure = err; // a database fault, not a cancel: the attempt fails and is retried
        ended.abort(err);
      },
    );
    let compressUsage: Usage | null = null;
    const compression = compressionOf(history);
    if (compression) {
      const compressed = await compress(deps, data, model, history, compression, callSignal, log);
      if (compressed) {
        compressUsage = compressed.usage;
        const chain = branchOf(loaded[1], data.userMessageId);
        history = planHistory(chain, { summary: compressed.text, summaryUptoMessageId: compression.upto.id }, data.params, inputCountingOf(model));
      }
    }
    const input = request(loaded, history);
    const status = job.attemptsMade > 0 ? { state: 'retrying' as const, attempt: attemptNumber(job) } : { state: 'active' as const };
    publishJobStatus(deps.redis, data.jobId, status).catch((err) => log.warn({ err }, 'status publish failed'));

    let stopReason = 'end_turn';
    let usage: Usage | null = null;
    let deltaEvents = 0;
    // Bedrock bills a stopped or failed call too; when it reported no usage, count what was delivered.
    const billed = (): Usage | null => {
      if (usage) return usage;
      const deliveredChars = writer.text.length + writer.reasoning.length;
      if (!deliveredChars) return null;
      const inputTokens = estimateInputTokens(input, model);
      return { inputTokens, outputTokens: Math.max(deltaEvents, Math.ceil(deliveredChars / 4)) };
    };
    let redating: Promise<unknown> = Promise.resolve();
    const metrics = workerMetrics();
    const call = metrics.startCall(model.id);
    metrics.streamStarted();
    // Time to first token: from the API queueing the chat to its first text here (first attempt with text only).
    let awaitingFirstToken = delivered === '' && deliveredReasoning === '';
    const firstToken = () => {
      awaitingFirstToken = false;
      const ms = Date.now() - job.timestamp;
      metrics.ttft.observe({ model: model.id }, ms / 1000);
      if (deps.queuePrefix) opsRecorder(deps.redis).ttft(deps.queuePrefix, model.id, data.jobId, ms);
    };
    // Once the call ended: its ledger rows (compression and answer, one each, written once; a call
    // that failed without reporting usage is billed by what it delivered), the quota and budget settle.
    const settleTurn = (recordIn?: (ledger: SQL | undefined) => Promise<void>) =>
      settleCalls(
        deps.governor,
        deps.laneQueues,
        spending,
        reservation,
        model,
        [
          { purpose: 'compress', usage: compressUsage },
          { purpose: 'chat', usage: usage ?? billed() },
        ],
        { quotaUsage: usage && addUsage(usage, compressUsage), log, ...(recordIn ? { recordIn } : {}) },
      );
    let answered = false;
    let bedrockRequestId: string | undefined;
    try {
      if (writer.stamps) writer.hop = [job.timestamp, pickedAt, stampNow()];
      const response = await sendToBedrock(deps.bedrock, new ConverseStreamCommand(input), callSignal);
      bedrockRequestId = response.$metadata.requestId;
      // The window counts the call from now; the first tokens need not wait for that round trip.
      redating = deps.governor.redate(model.id, reservation.reservationId).catch((err) => log.warn({ err }, 'quota redate failed'));
      for await (const event of response.stream ?? []) {
        const delta = event.contentBlockDelta?.delta;
        if (delta?.text) {
          deltaEvents++;
          if (awaitingFirstToken) firstToken();
          writer.push(delta.text);
        } else if (delta?.reasoningContent?.text) {
          deltaEvents++;
          if (awaitingFirstToken) firstToken();
          writer.pushReasoning(delta.reasoningContent.text);
        }
        else if (event.messageStop) stopReason = event.messageStop.stopReason ?? stopReason;
        else if (event.metadata?.usage) usage = usageFrom(event.metadata.usage);
      }
      await Promise.all([writer.flush(), checkingOpen]);
      // An aborted stream may simply end instead of throwing.
      if (callSignal.aborted) throw callSignal.reason ?? new Error('aborted');
      answered = true;
    } catch (err) {
      await Promise.all([writer.flush().catch(() => undefined), checkingOpen]);
      if (checkFailure) throw checkFailure;
      const text = delivered + writer.text;
      // Back to the queue without ending the answer or spending an attempt: whoever runs the job
      // next continues after what its stream holds.
      const comeBackIn = async (ms: number): Promise<never> => {
        await job.moveToDelayed(Date.now() + ms, token);
        throw new DelayedError();
      };
      const handOver = handOverOf(signal);
      if (handOver) {
        log.info({ chars: text.length, why: handOver.why }, 'chat handed to another worker');
        if (handOver.why === 'lock-lost' || !token) throw handOver;
        await comeBackIn(0);
      }
      const reasoning = deliveredReasoning + writer.reasoning;
      bedrockRequestId ??= (err as { $metadata?: { requestId?: string } })?.$metadata?.requestId;
      if (callSignal.aborted) {
        log.info({ chars: text.length, bedrockRequestId }, 'chat cancelled; keeping the partial answer');
        usage = billed();
        call.done('cancelled', usage, costOf(model, usage));
        await finish({ status: 'cancelled', text, reasoning, stopReason: 'cancelled', usage, cost: costOf(model, usage) });
        return;
      }
      const writeFailure = writer.writeFailure;
      if (writeFailure instanceof StreamTakenError) {
        // Another attempt runs this job too (this one's lock lapsed, or the other's): step back. If
        // the job is still ours it comes back shortly; if not, the move fails and the other goes on.
        log.warn({ lastSeq: writeFailure.lastSeq }, 'another attempt is writing this answer; stepping back');
        if (!token) throw writeFailure;
        await comeBackIn(takenBackoffMs);
      }
      if (writeFailure) {
        // Redis failed, not the model: the attempt fails and is retried, continuing after what the stream holds.
        log.warn({ err: { name: writeFailure.name, message: writeFailure.message } }, 'writing the answer to Redis failed');
        throw writeFailure;
      }
      // Throttled before any text: back to the line with the same place, no attempt spent.
      call.done(isThrottle(err) ? 'throttled' : 'error');
      if (isThrottle(err) && writer.text === '' && writer.reasoning === '') {
        log.warn({ bedrockRequestId }, 'bedrock throttled the call; backing off the model');
        await waitAfterThrottle(deps.governor, job, token, reservation, err);
      }
      const retryable = isRetryableBedrockError(err);
      const lastAttempt = isFinalAttempt(job);
      log.warn({ err: { name: (err as Error).name, message: (err as Error).message }, retryable, lastAttempt, bedrockRequestId }, 'bedrock call failed');
      if (retryable && !lastAttempt) throw err;
      usage = billed();
      await finish({ ...failed(text, errorCodeOf(err), (err as Error).message ?? 'Bedrock call failed', retryable), reasoning, usage, cost: costOf(model, usage) });
      throw new UnrecoverableError((err as Error).message);
    } finally {
      metrics.streamEnded();
      await redating;
      // An answer's ledger rows go in one statement with its record (below); any other ending's here.
      if (!answered) await settleTurn().catch((err) => log.warn({ err }, 'usage record failed'));
    }
    call.done('ok', usage, costOf(model, usage));
    const answer: TurnOutcome = {
      status: 'completed',
      text: delivered + writer.text,
      reasoning: deliveredReasoning + writer.reasoning,
      stopReason,
      usage,
      cost: costOf(model, usage),
    };
    await settleTurn((ledger) => finish(answer, ledger));
    log.info({ stopReason, usage, bedrockRequestId }, 'chat completed');
    await askForTitle(deps, data, loaded, delivered + writer.text).catch((err) => log.warn({ err }, 'could not queue the title'));
  };
}

/**
 * The conversation and history of a first turn from its job data, as Postgres would give them: a
 * new conversation (no summary) holding only the user's message.
 */
function carriedTurn(data: ChatJobData, first: FirstTurn) {
  const conversation = { id: data.conversationId, title: first.title, systemPrompt: first.systemPrompt, summary: null, summaryUptoMessageId: null, summaryCovers: null };
  const question = { id: data.userMessageId, conversationId: data.conversationId, role: 'user', content: first.content, parentId: null, status: 'complete' };
  return [conversation, [question]] as unknown as [ConversationRow, MessageRow[]];
}

/** A conversation whose title nobody chose (default or first words) gets a model-written one. */
async function askForTitle(
  deps: ChatProcessorDeps,
  data: ChatJobData,
  [conversation, history]: [{ title: string } | undefined, { role: string; content: unknown }[]],
  answer: string,
): Promise<void> {
  if (!deps.titles || !conversation) return;
  const firstQuestion = history.find((m) => m.role === 'user');
  if (!isAutomaticTitle(conversation.title, firstQuestion?.content as Parameters<typeof isAutomaticTitle>[1])) return;
  // A first turn hands the exchange over (the titling job then reads no Postgres); the titling
  // request keeps 1,500 characters of each side, one more shows it was cut.
  const clip = (s: string) => s.slice(0, 1501);
  const documents = (content: Block[]) => content.flatMap((b) => (b.type === 'document' ? [b.name] : [])).join(', ');
  const exchange = data.first && {
    title: conversation.title,
    modelId: data.modelId,
    question: clip(textOf(data.first.content) || documents(data.first.content)),
    answer: clip(answer),
  };
  // One titling job per conversation at a time (the job id dedupes).
  await enqueueTitle(deps.titles, {
    conversationId: data.conversationId,
    owner: data.owner,
    ...(data.groups ? { groups: data.groups } : {}),
    ...(exchange ? { exchange } : {}),
  });
}

/**
 * Summarizes the older part of the branch (one non-streaming call under the turn's reservation) and
 * stores it on the conversation. A failed compression is logged and the turn goes on uncompressed.
 */
async function compress(
  deps: ChatProcessorDeps,
  data: ChatJobData,
  model: ModelEntry,
  plan: HistoryPlan,
  compression: NonNullable<HistoryPlan['compress']>,
  signal: AbortSignal | undefined,
  log: Logger,
): Promise<{ text: string; usage: Usage } | undefined> {
  publishJobStatus(deps.redis, data.jobId, { state: 'compressing' }).catch((err) => log.warn({ err }, 'status publish failed'));
  try {
    const response = await sendToBedrock(deps.bedrock, new ConverseCommand(buildCompressRequest(model, plan.summary, compression.covered)), signal);
    const text = (response.output?.message?.content ?? []).map((b) => b.text ?? '').join('').trim();
    const usage = usageFrom(response.usage);
    if (!text) return undefined;
    await deps.turns.storeSummary(data.conversationId, {
      text,
      uptoMessageId: compression.upto.id,
      coversMessages: compression.coversMessages,
      usage,
      cost: costOf(model, usage) ?? 0,
    });
    log.info({ coversMessages: compression.coversMessages, usage }, 'history compressed');
    return { text, usage };
  } catch (err) {
    log.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'history compression failed; sending the history uncompressed');
    return undefined;
  }
}

function addUsage(a: Usage | null, b: Usage | null): Usage | null {
  if (!b) return a;
  if (!a) return b;
  const sum = (x?: number, y?: number) => (x ?? 0) + (y ?? 0) || undefined;
  const read = sum(a.cacheReadTokens, b.cacheReadTokens);
  const write = sum(a.cacheWriteTokens, b.cacheWriteTokens);
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    ...(read ? { cacheReadTokens: read } : {}),
    ...(write ? { cacheWriteTokens: write } : {}),
  };
}

function failed(text: string, code: string, message: string, retryable = false): TurnOutcome & { retryable: boolean } {
  return { status: 'failed', text, stopReason: null, usage: null, error: { code, message }, retryable };
}

/**
 * Postgres first (the record, and the call's ledger rows when given), then the terminal stream
 * entry that clients turn into done/error.
 */
async function finishTurn(
  deps: ChatProcessorDeps,
  data: ChatJobData,
  writer: DeltaWriter,
  outcome: TurnOutcome & { retryable?: boolean },
  ledger?: SQL,
) {
  if (!(await deps.turns.finish(data.jobId, data.assistantMessageId, outcome, ledger))) return;
  if (deps.queuePrefix) void publishConversationUpdate(deps.redis, deps.queuePrefix, data.owner, { conversationId: data.conversationId, change: 'answered', jobId: data.jobId });
  const ending: ChatEnding =
    outcome.status === 'failed'
      ? { status: outcome.status, error: outcome.error!, retryable: outcome.retryable ?? false }
      : { ...outcome, status: outcome.status, conversationId: data.conversationId, messageId: data.assistantMessageId };
  await endJobStream(deps.streams, data.jobId, ending, writer.nextSeq());
}

/**
 * A chat's last attempt failed without writing its ending (Postgres or Redis failed under it, or a
 * fault of ours): its sockets hear `chat:error` now instead of when the reconciler finds the job
 * open in Postgres (JOBS_RECONCILE_MIN_AGE_MS later), which then records it there. A stream that
 * already ended (the attempt wrote its own ending before failing) is left as it is.
 */
export async function endStreamOfFailedChat(redis: Redis, job: Pick<Job<ChatJobData>, 'id' | 'attemptsMade' | 'opts'>, err: Error): Promise<void> {
  const final = err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
  if (!final || !job.id) return;
  await endJobStream(redis, job.id, { status: 'failed', error: lostEnding, retryable: true });
}
