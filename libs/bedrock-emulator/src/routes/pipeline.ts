import { setImmediate as nextTurn } from 'node:timers/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import { emulatorAnswer, lastUserText, requestedMaxTokens, type AnswerRequest, type EmulatorAnswer } from '../answers.js';
import { modelSettings } from '../config.js';
import type { TokenCounting } from '../media.js';
import { knownOutputBurndown, knownTokenCounting, type ModelRules } from '../rules.js';
import { EVENT_STREAM_CONTENT_TYPE, exceptionFrame } from '../event-stream.js';
import type { ActiveFault } from '../faults.js';
import { AwsError, BodyTooLargeError, readBody, sendAwsError, validation, type Req, type Res } from '../http.js';
import type { QuotaReservation } from '../quota.js';
import type { EmulatorState, Operation, Outcome, RequestRecord } from '../state.js';

/** Frames per write when many deltas are due at once, so one fast stream cannot starve the rest. */
const MAX_FRAMES_PER_WRITE = 256;

/** What differs between Converse and InvokeModel (and their streaming variants). */
export interface OperationAdapter {
  operation: Operation;
  streaming: boolean;
  /** Validates the body (throws AwsError) and returns it in the shape `emulatorAnswer` takes. */
  parse(body: unknown, modelId: string): AnswerRequest;
  /** Bedrock's per-model checks (skipped in lenient mode); the body passed `parse`. */
  checkRules?(body: unknown, rules: ModelRules, maxTokens: number): void;
  /** Prompt-cache usage of the request (cache points), taken off its input tokens. */
  cacheUsage?(state: EmulatorState, modelId: string, body: unknown, rules: ModelRules, counting: TokenCounting): { read: number; write: number } | undefined;
  /** Non-streaming: the whole response. */
  respond?(res: Res, answer: EmulatorAnswer, ctx: ResponseContext): void;
  /** Streaming: extra response headers, and the frames around the deltas. */
  streamHeaders?: OutgoingHttpHeaders;
  startFrames?(answer: EmulatorAnswer, ctx: ResponseContext): Buffer[];
  /** `index` counts reasoning pieces first, then text pieces. */
  deltaFrame?(token: string, index: number, answer: EmulatorAnswer): Buffer;
  endFrames?(answer: EmulatorAnswer, ctx: ResponseContext): Buffer[];
}

export interface ResponseContext {
  requestId: string;
  modelId: string;
  /** Milliseconds since the request arrived. */
  elapsedMs(): number;
  firstByteMs: number;
}

const THROTTLE_MESSAGE = {
  requests: 'Too many requests, please wait before trying again.',
  tokens: 'Too many tokens, please wait before trying again.',
} as const;

function authScheme(header: string | undefined): RequestRecord['auth'] {
  if (header?.startsWith('AWS4-HMAC-SHA256 ')) return 'sigv4';
  if (/^Bearer \S/.test(header ?? '')) return 'bearer';
  return 'none';
}

/** Tracks the client going away, and lets the pacing loop sleep until a deadline or that. */
class ClientWatch {
  closed = false;
  finished = false;
  private wake: (() => void) | undefined;

  constructor(private readonly res: Res) {
    res.once('close', () => {
      if (this.finished) return;
      this.closed = true;
      this.wake?.();
    });
  }

  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  /** Waits for the socket/stream buffer to drain, honouring backpressure, or for the client to leave. */
  drain(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.removeListener('drain', done);
        this.wake = undefined;
        resolve();
      };
      this.res.once('drain', done);
      this.wake = done;
    });
  }
}

/** Runs one model request: auth, validation, faults, quota, then the (paced) response. */
export async function handleModelRequest(
  state: EmulatorState,
  req: Req,
  res: Res,
  modelId: string,
  adapter: OperationAdapter,
): Promise<void> {
  const started = performance.now();
  const time = Date.now();
  const requestId = state.newRequestId();
  const watch = new ClientWatch(res);
  const base: RequestRecord = {
    id: requestId,
    at: new Date(time).toISOString(),
    time,
    modelId,
    operation: adapter.operation,
    protocol: req.httpVersion === '2.0' ? 'h2' : 'http/1.1',
    auth: authScheme(req.headers.authorization),
    status: 0,
    outcome: 'rejected',
    inputTokens: 0,
    outputTokens: 0,
    durationMs: 0,
  };
  const finish = (patch: Partial<RequestRecord>): void =>
    state.record({ ...base, ...patch, durationMs: Math.round(performance.now() - started) });

  let answer: EmulatorAnswer;
  let reservation: QuotaReservation;
  let burndown = 1;
  let fault: ActiveFault | undefined;
  try {
    if (base.auth === 'none') {
      throw new AwsError(403, 'UnrecognizedClientException', req.headers.authorization ? 'The security token included in the request is invalid.' : 'Missing Authentication Token');
    }
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw validation('Malformed input request, please reformat your input and try again.');
    }
    const settings = modelSettings(state.config, modelId);
    if (!settings) throw validation('The provided model identifier is invalid.');
    const request = adapter.parse(body, modelId);
    if (request.effort) base.effort = request.effort;
    // Converse without maxTokens: "the default value is the maximum allowed value for the model"
    // (InferenceConfiguration), so the quota holds all of it (InvokeModel requires max_tokens).
    const maxTokens = requestedMaxTokens(request) ?? settings.maxOutputTokens;
    if (maxTokens > settings.maxOutputTokens) {
      throw validation(
        `The maximum tokens you requested exceeds the model limit of ${settings.maxOutputTokens}. Try again with a maximum tokens value that is lower than ${settings.maxOutputTokens}.`,
      );
    }
    if (!state.config.lenient) adapter.checkRules?.(body, settings.rules, maxTokens);
    // Input is counted as the model counts it: Opus 4.7 on make more tokens of the same text and images.
    const counting = knownTokenCounting(modelId, settings.tokenizerRatio);
    // A model that always thinks does so unasked, adaptively (within maxTokens).
    const thinksUnasked = settings.rules.alwaysThinks && request.thinkingBudget === undefined;
    answer = emulatorAnswer({ ...request, maxTokens, inferenceConfig: undefined, max_tokens: undefined, ...(thinksUnasked ? { thinkingBudget: Number.MAX_SAFE_INTEGER } : {}) }, { counting });
    if (answer.reasoning.length > 0 && (request.thinkingDisplay ?? settings.rules.thinkingDisplay) === 'omitted') answer.reasoningOmitted = true;
    base.inputTokens = answer.inputTokens;
    if (answer.inputTokens > settings.contextWindow) throw validation('Input is too long for requested model.');
    fault = state.faults.take(modelId, adapter.streaming, lastUserText(request.messages));
    if (fault?.type === 'serviceUnavailable') {
      throw new AwsError(503, 'ServiceUnavailableException', fault.message ?? 'Bedrock is unable to process your request.');
    }
    if (fault?.type === 'throttling') throw new AwsError(429, 'ThrottlingException', fault.message ?? THROTTLE_MESSAGE.requests);
    const cache = adapter.cacheUsage?.(state, modelId, body, settings.rules, counting);
    if (cache) {
      answer.cacheReadTokens = cache.read;
      answer.cacheWriteTokens = cache.write;
      answer.inputTokens = Math.max(0, answer.inputTokens - cache.read - cache.write);
    }
    // Bedrock's token quota: input and cache writes once, output at the model's burndown rate.
    burndown = settings.quota.outputBurndown ?? knownOutputBurndown(modelId);
    const admission = state.quota.admit(modelId, settings.quota, answer.inputTokens + (answer.cacheWriteTokens ?? 0) + maxTokens * burndown);
    if (!admission.ok) throw new AwsError(429, 'ThrottlingException', THROTTLE_MESSAGE[admission.reason]);
    reservation = admission.reservation;
  } catch (err) {
    const e =
      err instanceof AwsError
        ? err
        : err instanceof BodyTooLargeError
          ? validation('Input is too long for requested model.')
          : new AwsError(500, 'InternalServerException', 'The server encountered an internal error while processing the request.');
    if (watch.closed) {
      finish({ status: 499, outcome: 'aborted' });
      return;
    }
    watch.finished = true;
    sendAwsError(res, e.status, e.errorType, e.message, requestId);
    finish({ status: e.status, errorType: e.errorType, outcome: 'rejected' });
    return;
  }

  const tps = answer.directives.tps ?? state.config.tps;
  const ttfbMs = answer.directives.ttfb ?? state.config.ttfbMs;
  const ctx: ResponseContext = { requestId, modelId, elapsedMs: () => Math.round(performance.now() - started), firstByteMs: 0 };
  let sent = 0;
  let outcome: Outcome = 'completed';
  let errorType: string | undefined;
  if (adapter.streaming) state.streamStarted();
  try {
    await watch.sleep(ttfbMs - (performance.now() - started));
    ctx.firstByteMs = ctx.elapsedMs();
    if (watch.closed) {
      outcome = 'aborted';
    } else if (!adapter.streaming) {
      // A non-streaming call takes as long as generating the whole answer would.
      await watch.sleep(Number.isFinite(tps) ? (answer.outputTokens * 1000) / tps : 0);
      if (watch.closed) outcome = 'aborted';
      else {
        sent = answer.outputTokens;
        watch.finished = true;
        adapter.respond!(res, answer, ctx);
      }
    } else {
      res.writeHead(200, { 'content-type': EVENT_STREAM_CONTENT_TYPE, 'x-amzn-RequestId': requestId, ...adapter.streamHeaders });
      const pieces = answer.reasoning.length > 0 ? [...answer.reasoning, ...answer.tokens] : answer.tokens;
      const limit = fault?.type === 'streamError' ? Math.min(fault.afterTokens ?? 0, pieces.length) : pieces.length;
      const interval = Number.isFinite(tps) ? 1000 / tps : 0;
      const firstAt = performance.now();
      let pending: Buffer[] = adapter.startFrames!(answer, ctx);
      while (!watch.closed) {
        const due = interval === 0 ? limit : Math.min(limit, Math.floor((performance.now() - firstAt) / interval) + 1);
        const upto = Math.min(due, sent + MAX_FRAMES_PER_WRITE);
        for (; sent < upto; sent++) pending.push(adapter.deltaFrame!(pieces[sent]!, sent, answer));
        if (sent >= limit) break;
        if (pending.length > 0 && !res.write(Buffer.concat(pending))) await watch.drain();
        pending = [];
        if (sent < due) await nextTurn();
        else await watch.sleep(firstAt + sent * interval - performance.now());
      }
      if (watch.closed) {
        outcome = 'aborted';
      } else {
        if (fault?.type === 'streamError') {
          const exception = fault.exception ?? 'modelStreamErrorException';
          outcome = 'stream-error';
          errorType = exception;
          pending.push(exceptionFrame(exception, fault.message ?? streamErrorMessage(exception), exception === 'modelStreamErrorException' ? { originalStatusCode: 500, originalMessage: 'Model stream error' } : {}));
        } else {
          pending.push(...adapter.endFrames!(answer, ctx));
        }
        watch.finished = true;
        res.end(Buffer.concat(pending));
      }
    }
  } finally {
    const outputTokens = outcome === 'aborted' && !adapter.streaming ? 0 : sent;
    reservation.settle(answer.inputTokens + (answer.cacheWriteTokens ?? 0) + outputTokens * burndown);
    if (adapter.streaming) {
      state.streamEnded(outcome, outcome === 'aborted' ? { id: requestId, modelId, operation: adapter.operation, outputTokens } : undefined);
    }
    finish({ status: outcome === 'aborted' && !res.headersSent ? 499 : 200, outcome, errorType, outputTokens });
  }
}

function streamErrorMessage(exception: string): string {
  switch (exception) {
    case 'throttlingException':
      return THROTTLE_MESSAGE.requests;
    case 'internalServerException':
      return 'The server encountered an internal error while processing the request.';
    case 'serviceUnavailableException':
      return 'Bedrock is unable to process your request.';
    default:
      return 'The model stream encountered an error. Try your request again.';
  }
}
