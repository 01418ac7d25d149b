import type { AnswerMessage, AnswerRequest, EmulatorAnswer } from '../answers.js';
import { checkRules, isAdaptiveThinking, thinkingBudgetOf, thinkingDisplayOf, type ConverseBody } from '../rules.js';
import { paddedEventFrame } from '../event-stream.js';
import { sendJson, validation } from '../http.js';
import type { OperationAdapter } from './pipeline.js';

const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

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
    if (!msg.content.every(isObject)) throw validation(`messages.${i}.content: each content block must be an object`);
  });
  if (b['system'] !== undefined && !(Array.isArray(b['system']) && b['system'].every(isObject))) {
    throw validation('system: must be a list of system content blocks');
  }
  const config = (b['inferenceConfig'] ?? {}) as Record<string, unknown>;
  const maxTokens = config['maxTokens'];
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && (maxTokens as number) >= 1)) {
    throw validation('inferenceConfig.maxTokens: must be an integer >= 1');
  }
  for (const key of ['temperature', 'topP'] as const) {
    const v = config[key];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) throw validation(`inferenceConfig.${key}: must be between 0 and 1`);
  }
  const extra = b['additionalModelRequestFields'];
  if (extra !== undefined && (typeof extra !== 'object' || extra === null || Array.isArray(extra))) {
    throw validation('additionalModelRequestFields: must be a JSON object');
  }
  // Adaptive thinking: the model chooses how much to think, within maxTokens.
  const budget = isAdaptiveThinking(b as unknown as ConverseBody) ? Number.MAX_SAFE_INTEGER : thinkingBudgetOf(b as unknown as ConverseBody);
  const display = thinkingDisplayOf(b as unknown as ConverseBody);
  return {
    modelId,
    messages: messages as AnswerMessage[],
    system: b['system'] as AnswerRequest['system'],
    maxTokens: maxTokens as number | undefined,
    ...(budget && Number.isInteger(budget) ? { thinkingBudget: budget } : {}),
    ...effortOf(extra),
    ...(display ? { thinkingDisplay: display } : {}),
  };
}

function effortOf(extra: unknown): { effort?: string } {
  const effort = (extra as { output_config?: { effort?: unknown } } | undefined)?.output_config?.effort;
  return typeof effort === 'string' ? { effort } : {};
}

function usage(answer: EmulatorAnswer) {
  const read = answer.cacheReadTokens;
  const write = answer.cacheWriteTokens;
  const total = answer.inputTokens + answer.outputTokens + (read ?? 0) + (write ?? 0);
  return {
    inputTokens: answer.inputTokens,
    outputTokens: answer.outputTokens,
    totalTokens: total,
    ...(read !== undefined ? { cacheReadInputTokens: read, cacheWriteInputTokens: write ?? 0 } : {}),
  };
}

const hasCachePoints = (b: ConverseBody) =>
  (b.system ?? []).some((x) => 'cachePoint' in x) || b.messages.some((m) => m.content.some((x) => 'cachePoint' in x));

const converseChecks: Pick<OperationAdapter, 'checkRules' | 'cacheUsage'> = {
  checkRules: (body, rules, maxTokens) => checkRules(body as ConverseBody, rules, maxTokens),
  cacheUsage: (state, modelId, body, rules, counting) =>
    hasCachePoints(body as ConverseBody) ? state.promptCache.apply(modelId, body as ConverseBody, rules, counting) : undefined,
};

export const converseAdapter: OperationAdapter = {
  operation: 'converse',
  streaming: false,
  parse: parseConverse,
  ...converseChecks,
  respond(res, answer, ctx) {
    const text = answer.reasoningOmitted ? '' : answer.reasoning.join('');
    const reasoning = answer.reasoning.length > 0 ? [{ reasoningContent: { reasoningText: { text, signature: answer.signature } } }] : [];
    sendJson(
      res,
      200,
      {
        output: { message: { role: 'assistant', content: [...reasoning, { text: answer.text }] } },
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
  ...converseChecks,
  startFrames: () => [paddedEventFrame('messageStart', { role: 'assistant' })],
  // Thinking is block 0 (reasoning text deltas, then its signature), the answer the next block.
  deltaFrame: (text, index, answer) => {
    const r = answer.reasoning.length;
    if (index >= r) return paddedEventFrame('contentBlockDelta', { contentBlockIndex: r > 0 ? 1 : 0, delta: { text } });
    // Omitted thinking: the time passes, no text goes out; the signature closes the block.
    const frame = answer.reasoningOmitted ? Buffer.alloc(0) : paddedEventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text } } });
    if (index < r - 1) return frame;
    return Buffer.concat([
      frame,
      paddedEventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { signature: answer.signature } } }),
      paddedEventFrame('contentBlockStop', { contentBlockIndex: 0 }),
    ]);
  },
  endFrames: (answer, ctx) => [
    paddedEventFrame('contentBlockStop', { contentBlockIndex: answer.reasoning.length > 0 ? 1 : 0 }),
    paddedEventFrame('messageStop', { stopReason: answer.stopReason }),
    paddedEventFrame('metadata', { usage: usage(answer), metrics: { latencyMs: ctx.elapsedMs() } }),
  ],
};
