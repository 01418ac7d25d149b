import type { ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import type { InputCounting, ModelEntry, ModelParams } from '@switchboard/contracts';
import { buildChatInput, buildTextInput, type MessageRow } from '@switchboard/server-core';
import { estimateImageTokens, estimateTextTokens } from '../quota/input-tokens.js';

export { defaultMaxTokens, maxTokensFor } from '@switchboard/server-core';

/**
 * Builds the ConverseStream input (shared request building, see server-core's converse-input):
 * system prompt, the conversation so far, parameters the model accepts, cache points and, when an
 * earlier attempt already delivered part of the answer, that part as an assistant prefill so the
 * model continues instead of starting over (without thinking: Bedrock refuses a prefill with it), or
 * as an assistant turn and a user turn asking to go on where the model takes no prefill (4.6 on).
 */
export function buildConverseRequest(opts: {
  model: ModelEntry;
  systemPrompt: string | null;
  history: MessageRow[];
  params: ModelParams;
  delivered: string;
  /** Summary of the history before `history` (compression): sent in the system prompt. */
  summary?: string | null;
  /** False: no thinking on this call (an earlier attempt already streamed thinking). */
  thinking?: boolean;
}): ConverseStreamCommandInput & { thinkingBudget?: number } {
  const system = [opts.systemPrompt, opts.summary ? summaryPreamble + opts.summary : null].filter((t): t is string => !!t).join('\n\n');
  return buildChatInput({
    model: opts.model,
    system: system || null,
    messages: opts.history
      .filter((m) => m.role === 'user' || m.status === 'complete' || m.status === 'cancelled')
      .map((m) => ({ role: m.role, content: m.content })),
    params: opts.params,
    prefill: opts.delivered,
    thinking: opts.thinking,
  }) as ConverseStreamCommandInput & { thinkingBudget?: number };
}

/** Introduces the compressed history in the system prompt. */
export const summaryPreamble = 'Summary of the earlier part of this conversation:\n';

/** The prompt of the compression call (NextChat's recipe: summarize, keep it short, same language). */
export const compressSystemPrompt =
  'Summarize the conversation below as a brief memory for continuing it: the topics, facts, decisions and open questions, in at most 200 words, in the language of the conversation. Reply with the summary only.';
export const compressMaxTokens = 600;

/**
 * The branch the turn answers: from the first message down the parent chain to the user's message.
 * Messages without parentId (none after migration 0002) are treated as linear.
 */
export function branchOf(all: readonly MessageRow[], userMessageId: string): MessageRow[] {
  const byId = new Map(all.map((m) => [m.id, m]));
  const chain: MessageRow[] = [];
  const seen = new Set<string>();
  for (let m = byId.get(userMessageId); m && !seen.has(m.id); m = m.parentId ? byId.get(m.parentId) : undefined) {
    seen.add(m.id);
    chain.push(m);
  }
  return chain.reverse();
}

export type HistoryPlan = {
  /** Messages sent as they are, oldest first (the user's message last). */
  recent: MessageRow[];
  /** The stored summary when it covers the start of this branch. */
  summary: string | null;
  /** Set when the history passed compressThreshold: the messages to fold into a new summary. */
  compress?: { covered: MessageRow[]; upto: MessageRow; coversMessages: number };
};

/** Messages of the last exchange kept verbatim when older history is compressed. */
const keepRecent = 2;

/**
 * What of the branch is sent: the summary (when it was made on this branch) stands for the messages
 * it covers, then at most `historyMessages` recent ones. Past `compressThreshold` estimated tokens of
 * history, everything before the last exchange is marked for compression.
 */
export function planHistory(
  chain: readonly MessageRow[],
  conversation: { summary: string | null; summaryUptoMessageId: string | null; summaryCovers?: number | null },
  params: ModelParams,
  /** How the model counts its input (inputCountingOf). */
  counting: InputCounting,
): HistoryPlan {
  const cut = conversation.summary && conversation.summaryUptoMessageId ? chain.findIndex((m) => m.id === conversation.summaryUptoMessageId) : -1;
  const summary = cut >= 0 ? conversation.summary : null;
  const afterSummary = chain.slice(cut + 1);
  const limit = (messages: MessageRow[]) => (params.historyMessages ? messages.slice(-params.historyMessages) : messages);
  const plan: HistoryPlan = { recent: limit(afterSummary), summary };
  const threshold = params.compressThreshold;
  if (!threshold) return plan;
  const earlier = afterSummary.slice(0, -1);
  if (estimateHistoryTokens(earlier, counting) + (summary ? estimateTextTokens(summary.length, counting) : 0) <= threshold) return plan;
  const covered = earlier.slice(0, Math.max(0, earlier.length - keepRecent));
  if (covered.length === 0) return plan;
  const upto = covered.at(-1)!;
  return { ...plan, compress: { covered, upto, coversMessages: cut + 1 + covered.length } };
}

/**
 * The history as Bedrock would bill it, on the safe side (3.5 characters a Claude 3 token, scaled
 * by the model's tokenizer ratio; each image by its size; documents 1,500).
 */
export function estimateHistoryTokens(messages: readonly MessageRow[], counting: InputCounting): number {
  let tokens = 0;
  for (const m of messages) {
    for (const b of m.content) tokens += b.type === 'text' ? estimateTextTokens(b.text.length, counting) : b.type === 'image' ? estimateImageTokens(b.data, counting.images) : 1500;
  }
  return tokens;
}

/** The compression call: the previous summary and the covered messages as one transcript. */
export function buildCompressRequest(model: ModelEntry, previousSummary: string | null, covered: readonly MessageRow[]) {
  const lines: string[] = [];
  if (previousSummary) lines.push(`Earlier summary: ${previousSummary}`);
  for (const m of covered) {
    const text = m.content
      .map((b) => (b.type === 'text' ? b.text : b.type === 'image' ? '[image]' : `[document ${b.name}]`))
      .join('\n')
      .trim();
    if (text) lines.push(`${m.role === 'user' ? 'User' : 'Assistant'}: ${text}`);
  }
  return buildTextInput({ model, system: compressSystemPrompt, prompt: lines.join('\n\n') || '(empty)', maxTokens: compressMaxTokens, temperature: 0.2 }) as ConverseStreamCommandInput;
}

