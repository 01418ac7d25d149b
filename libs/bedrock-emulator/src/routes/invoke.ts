import type { AnswerMessage, AnswerRequest, EmulatorAnswer } from '../answers.js';
import { paddedEventFrame } from '../event-stream.js';
import { sendJson, validation } from '../http.js';
import { checkMessagesRules } from '../rules.js';
import type { OperationAdapter, ResponseContext } from './pipeline.js';

const malformed = (detail: string) => validation(`Malformed input request: ${detail}, please reformat your input and try again.`);

/** Validates an Anthropic messages body (`anthropic_version`, `max_tokens`, `messages`, …). */
function parseAnthropic(body: unknown, modelId: string): AnswerRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw malformed('#: expected type: JSONObject');
  const b = body as Record<string, unknown>;
  for (const key of ['anthropic_version', 'max_tokens', 'messages']) {
    if (b[key] === undefined) throw malformed(`#: required key [${key}] not found`);
  }
  if (typeof b['anthropic_version'] !== 'string') throw malformed('#/anthropic_version: expected type: String');
  const maxTokens = b['max_tokens'];
  if (!(Number.isInteger(maxTokens) && (maxTokens as number) >= 1)) throw malformed('#/max_tokens: must be an integer >= 1');
  const messages = b['messages'];
  if (!Array.isArray(messages) || messages.length === 0) throw malformed('#/messages: expected minimum item count: 1');
  messages.forEach((m: unknown, i) => {
    const msg = m as Partial<AnswerMessage> | null;
    if (!msg || (msg.role !== 'user' && msg.role !== 'assistant')) throw malformed(`#/messages/${i}/role: must be user or assistant`);
    if (typeof msg.content !== 'string' && !Array.isArray(msg.content)) throw malformed(`#/messages/${i}/content: expected type: String or JSONArray`);
  });
  if ((messages[0] as AnswerMessage).role !== 'user') throw validation('messages: first message must use the "user" role');
  return { modelId, messages: messages as AnswerMessage[], system: b['system'] as AnswerRequest['system'], maxTokens: maxTokens as number };
}

/** Bedrock's per-model checks on an Anthropic body that passed parseAnthropic. */
const checkInvokeRules: OperationAdapter['checkRules'] = (body, rules) => checkMessagesRules(body as Record<string, unknown>, rules);

const messageId = (ctx: ResponseContext) => `msg_bdrk_${ctx.requestId.replace(/[^a-z0-9]/gi, '')}`;

function tokenHeaders(answer: EmulatorAnswer, ctx: ResponseContext) {
  return {
    'x-amzn-RequestId': ctx.requestId,
    'X-Amzn-Bedrock-Input-Token-Count': String(answer.inputTokens),
    'X-Amzn-Bedrock-Output-Token-Count': String(answer.outputTokens),
    'X-Amzn-Bedrock-Invocation-Latency': String(ctx.elapsedMs()),
  };
}

export const invokeAdapter: OperationAdapter = {
  operation: 'invoke',
  streaming: false,
  parse: parseAnthropic,
  checkRules: checkInvokeRules,
  respond(res, answer, ctx) {
    sendJson(
      res,
      200,
      {
        id: messageId(ctx),
        type: 'message',
        role: 'assistant',
        model: ctx.modelId,
        content: [{ type: 'text', text: answer.text }],
        stop_reason: answer.stopReason,
        stop_sequence: null,
        usage: { input_tokens: answer.inputTokens, output_tokens: answer.outputTokens },
      },
      tokenHeaders(answer, ctx),
    );
  },
};

/** A `chunk` event carries one Anthropic streaming event, JSON then base64, in `bytes`. */
const chunk = (event: unknown): Buffer => paddedEventFrame('chunk', { bytes: Buffer.from(JSON.stringify(event)).toString('base64') });

export const invokeStreamAdapter: OperationAdapter = {
  operation: 'invoke-with-response-stream',
  streaming: true,
  parse: parseAnthropic,
  checkRules: checkInvokeRules,
  streamHeaders: { 'x-amzn-bedrock-content-type': 'application/json' },
  startFrames: (answer, ctx) => [
    chunk({
      type: 'message_start',
      message: {
        id: messageId(ctx),
        type: 'message',
        role: 'assistant',
        model: ctx.modelId,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: answer.inputTokens, output_tokens: 1 },
      },
    }),
    chunk({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ],
  deltaFrame: (text, _index) => chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }),
  endFrames: (answer, ctx) => [
    chunk({ type: 'content_block_stop', index: 0 }),
    chunk({ type: 'message_delta', delta: { stop_reason: answer.stopReason, stop_sequence: null }, usage: { output_tokens: answer.outputTokens } }),
    chunk({
      type: 'message_stop',
      'amazon-bedrock-invocationMetrics': {
        inputTokenCount: answer.inputTokens,
        outputTokenCount: answer.outputTokens,
        invocationLatency: ctx.elapsedMs(),
        firstByteLatency: ctx.firstByteMs,
      },
    }),
  ],
};
