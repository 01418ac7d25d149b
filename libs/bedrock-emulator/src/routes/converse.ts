import type { AnswerMessage, AnswerRequest } from '../answers.js';
import { eventFrame } from '../event-stream.js';
import { sendJson, validation } from '../http.js';
import type { OperationAdapter } from './pipeline.js';

/** Validates a Converse / ConverseStream body the way Bedrock rejects common mistakes. */
function parseConverse(body: unknown, modelId: string): AnswerRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw validation('Malformed input request, please reformat your input and try again.');
  const b = body as Record<string, unknown>;
  const messages = b['messages'];
  if (!Array.isArray(messages) || messages.length === 0) {
    throw validation('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
  }
  messages.forEach((m: unknown, i) => {
    const msg = m as Partial<AnswerMessage> | null;
    if (!msg || (msg.role !== 'user' && msg.role !== 'assistant')) throw validation(`messages.${i}.role: must be one of [user, assistant]`);
    if (i === 0 && msg.role !== 'user') {
      throw validation('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
    }
    if (i > 0 && (messages[i - 1] as AnswerMessage).role === msg.role) {
      throw validation('A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.');
    }
    if (!Array.isArray(msg.content) || msg.content.length === 0) throw validation(`messages.${i}.content: must contain at least one content block`);
  });
  if (b['system'] !== undefined && !Array.isArray(b['system'])) throw validation('system: must be a list of system content blocks');
  const config = (b['inferenceConfig'] ?? {}) as Record<string, unknown>;
  const maxTokens = config['maxTokens'];
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && (maxTokens as number) >= 1)) {
    throw validation('inferenceConfig.maxTokens: must be an integer >= 1');
  }
  for (const key of ['temperature', 'topP'] as const) {
    const v = config[key];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) throw validation(`inferenceConfig.${key}: must be between 0 and 1`);
  }
  return {
    modelId,
    messages: messages as AnswerMessage[],
    system: b['system'] as AnswerRequest['system'],
    maxTokens: maxTokens as number | undefined,
  };
}

function usage(answer: { inputTokens: number; outputTokens: number }) {
  return { inputTokens: answer.inputTokens, outputTokens: answer.outputTokens, totalTokens: answer.inputTokens + answer.outputTokens };
}

export const converseAdapter: OperationAdapter = {
  operation: 'converse',
  streaming: false,
  parse: parseConverse,
  respond(res, answer, ctx) {
    sendJson(
      res,
      200,
      {
        output: { message: { role: 'assistant', content: [{ text: answer.text }] } },
        stopReason: answer.stopReason,
        usage: usage(answer),
        metrics: { latencyMs: ctx.elapsedMs() },
      },
      { 'x-amzn-RequestId': ctx.requestId },
    );
  },
};

/** The event sequence Bedrock sends for a text answer (no contentBlockStart for text blocks). */
export const converseStreamAdapter: OperationAdapter = {
  operation: 'converse-stream',
  streaming: true,
  parse: parseConverse,
  startFrames: () => [eventFrame('messageStart', { role: 'assistant' })],
  deltaFrame: (text, _index) => eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } }),
  endFrames: (answer, ctx) => [
    eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
    eventFrame('messageStop', { stopReason: answer.stopReason }),
    eventFrame('metadata', { usage: usage(answer), metrics: { latencyMs: ctx.elapsedMs() } }),
  ],
};
