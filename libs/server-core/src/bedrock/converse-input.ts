import { callCostUsd, type EffortLevel, effortLevels, rulesOf, type Block, type ModelEntry, type ModelParams, type TokenCounts } from '@switchboard/contracts';

/**
 * Request building for Bedrock's Converse / ConverseStream, shared by the worker and the
 * `npm run smoke:aws` check so both send exactly what the model's catalog rules allow. The shapes are
 * structurally those of @aws-sdk/client-bedrock-runtime's input types (no SDK dependency here).
 */
export type ConverseBlock =
  | { text: string }
  | { image: { format: 'png' | 'jpeg' | 'gif' | 'webp'; source: { bytes: Uint8Array } } }
  | { document: { format: string; name: string; source: { bytes: Uint8Array } } }
  | { cachePoint: { type: 'default' } };
export type ConverseMessage = { role: 'user' | 'assistant'; content: ConverseBlock[] };
export type ConverseInput = {
  modelId: string;
  messages: ConverseMessage[];
  system?: ConverseBlock[];
  inferenceConfig: { maxTokens: number; temperature?: number; topP?: number };
  additionalModelRequestFields?: Record<string, unknown>;
};

/** Without an explicit maxTokens, ask for no more than this (Bedrock reserves maxTokens against TPM). */
export const defaultMaxTokens = 4096;

/** Room for the thinking of a model that always thinks (`rules.alwaysThinks`) when the turn set no budget. */
export const alwaysThinkingRoom = 4096;

/** The answer's token limit (thinking comes on top of it, see `samplingFor`). */
export function maxTokensFor(model: ModelEntry, params: ModelParams): number {
  return Math.min(params.maxTokens ?? defaultMaxTokens, model.maxOutputTokens);
}

/**
 * The thinking budget the call will use, or undefined: only for models whose rules allow thinking,
 * raised to the model's minimum, and leaving at least one token of answer under maxOutputTokens.
 */
export function thinkingBudgetFor(model: ModelEntry, params: ModelParams): number | undefined {
  const rules = rulesOf(model);
  if (!rules.thinking || !params.thinkingBudget) return undefined;
  const budget = Math.max(params.thinkingBudget, rules.thinking.minBudget);
  return budget < model.maxOutputTokens ? budget : undefined;
}

/**
 * The effort the call will use, or undefined: the asked level when the model takes it, else the
 * highest level it takes below it (params stored for another model), else none.
 */
export function effortFor(model: ModelEntry, params: ModelParams): EffortLevel | undefined {
  const rules = rulesOf(model);
  if (!rules.effort || !params.effort) return undefined;
  const taken = rules.effort.levels;
  return effortLevels
    .slice(0, effortLevels.indexOf(params.effort) + 1)
    .reverse()
    .find((level) => taken.includes(level));
}

/**
 * The additional fields that carry an effort: `output_config.effort`, with the model's
 * `anthropic_beta` flag where Bedrock still wants one for it (Opus 4.5). Undefined for no effort.
 */
function effortFields(model: ModelEntry, effort: EffortLevel | undefined): Record<string, unknown> | undefined {
  if (!effort) return undefined;
  const rules = rulesOf(model);
  const beta = rules.effort ? rules.effort.beta : undefined;
  return { output_config: { effort }, ...(beta ? { anthropic_beta: [beta] } : {}) };
}

/**
 * inferenceConfig and additional fields for a call, keeping only what the model accepts: with
 * exclusive sampling temperature wins over topP; top_k only where accepted (clamped to its range);
 * with thinking no temperature or top_k, topP only from 0.95, and maxTokens = budget + answer limit;
 * none of the three for a model that takes no sampling parameters; the effort where it is taken.
 * `thinking: false` turns thinking off for this call (a continued answer: Bedrock refuses a prefill
 * with thinking on).
 */
export function samplingFor(
  model: ModelEntry,
  params: ModelParams,
  opts: { thinking?: boolean } = {},
): Pick<ConverseInput, 'inferenceConfig' | 'additionalModelRequestFields'> & { thinkingBudget?: number } {
  const rules = rulesOf(model);
  const budget = opts.thinking === false ? undefined : thinkingBudgetFor(model, params);
  const answerMax = maxTokensFor(model, params);
  // A model that always thinks does so within maxTokens, asked or not: room for it on every call.
  const room = budget ?? (rules.alwaysThinks ? Math.max(alwaysThinkingRoom, params.thinkingBudget ?? 0) : undefined);
  const inferenceConfig: ConverseInput['inferenceConfig'] = {
    maxTokens: room ? Math.min(model.maxOutputTokens, room + answerMax) : answerMax,
  };
  const extra: Record<string, unknown> = {};
  if (budget) {
    // Adaptive: the model decides how much to think, within maxTokens (the budget made room for it).
    // Summarized thinking asked for where the model would send empty blocks (Opus 4.7 on): the portal shows it.
    const display = rules.thinkingDisplay === 'omitted' ? { display: 'summarized' } : {};
    extra['thinking'] = rules.thinkingMode === 'adaptive' ? { type: 'adaptive', ...display } : { type: 'enabled', budget_tokens: budget, ...display };
    if (rules.sampling && params.topP !== undefined && params.topP >= 0.95) inferenceConfig.topP = params.topP;
  } else if (rules.sampling) {
    if (params.temperature !== undefined) inferenceConfig.temperature = params.temperature;
    if (params.topP !== undefined && !(rules.exclusiveSampling && params.temperature !== undefined)) inferenceConfig.topP = params.topP;
    if (params.topK !== undefined && rules.topK) extra['top_k'] = Math.min(rules.topK.max, Math.max(rules.topK.min, params.topK));
  }
  Object.assign(extra, effortFields(model, effortFor(model, params)));
  return {
    inferenceConfig,
    ...(Object.keys(extra).length ? { additionalModelRequestFields: extra } : {}),
    ...(budget ? { thinkingBudget: budget } : {}),
  };
}

/** Estimated tokens of blocks (text at 4 characters a token, media by kind), for cache minimums. */
export function estimateBlockTokens(blocks: readonly ConverseBlock[]): number {
  let chars = 0;
  let media = 0;
  for (const b of blocks) {
    if ('text' in b) chars += b.text.length;
    else if ('image' in b) media += 1000;
    else if ('document' in b) media += 1500;
  }
  return Math.ceil(chars / 4) + media;
}

const cachePoint: ConverseBlock = { cachePoint: { type: 'default' } };

/**
 * Prompt-cache points for models with `rules.promptCache`: one after the system prompt, one after
 * the newest user message (the next turn's stable prefix: Bedrock finds it again from that turn's
 * cache point). A point goes only where the prefix reaches the model's minimum tokens; at most
 * `maxPoints`. Mutates and returns the input.
 */
export function addCachePoints<T extends Pick<ConverseInput, 'modelId' | 'system' | 'messages'>>(model: ModelEntry, input: T): T {
  const rules = rulesOf(model);
  if (!rules.promptCache) return input;
  const { minTokens, maxPoints } = rules.promptCache;
  let points = 0;
  const systemTokens = estimateBlockTokens(input.system ?? []);
  if (input.system?.length && systemTokens >= minTokens && points < maxPoints) {
    input.system.push(cachePoint);
    points += 1;
  }
  let lastUser = -1;
  input.messages.forEach((m, i) => {
    if (m.role === 'user') lastUser = i;
  });
  if (lastUser >= 0 && points < maxPoints) {
    // Bedrock refuses a cache point right after a document ("messages.N.content.M.type: Field
    // required"): it goes before the message's trailing documents, which join the cached prefix as
    // history on the next turn. A message of documents alone gets none.
    const content = input.messages[lastUser]!.content;
    let at = content.length;
    while (at > 0 && 'document' in content[at - 1]!) at -= 1;
    const earlier = input.messages.slice(0, lastUser).reduce((n, m) => n + estimateBlockTokens(m.content), 0);
    if (at > 0 && systemTokens + earlier + estimateBlockTokens(content.slice(0, at)) >= minTokens) content.splice(at, 0, cachePoint);
  }
  return input;
}

export function toConverseBlock(block: Block): ConverseBlock {
  switch (block.type) {
    case 'text':
      return { text: block.text };
    case 'image':
      return {
        image: {
          format: block.mediaType.slice('image/'.length) as 'png' | 'jpeg' | 'gif' | 'webp',
          source: { bytes: Buffer.from(block.data, 'base64') },
        },
      };
    case 'document':
      return { document: { format: block.format, name: documentName(block.name), source: { bytes: Buffer.from(block.data, 'base64') } } };
  }
}

/** Bedrock allows letters, digits, single spaces, hyphens, parentheses and brackets in names. */
export function documentName(name: string): string {
  const cleaned = name
    .replace(/\.[^.]+$/, '')
    .replace(/[^A-Za-z0-9\s\-()[\]]/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned || 'document';
}

/**
 * Bedrock refuses a request in which two documents share a name ("Messages can't contain duplicate
 * document names"), across the whole conversation: `report.pdf` and `report.docx`, or a file
 * attached again in a later turn, would break every turn after. A later namesake gets a number
 * (`report 2`); names go in order of appearance, so a document keeps its name as history grows.
 * Compared without case, to be safe. Mutates the messages.
 */
function uniqueDocumentNames(messages: readonly { content: ConverseBlock[] }[]): void {
  const taken = new Set<string>();
  for (const m of messages) {
    for (const b of m.content) {
      if (!('document' in b)) continue;
      let name = b.document.name;
      for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${b.document.name.slice(0, 200 - ` ${n}`.length).trimEnd()} ${n}`;
      taken.add(name.toLowerCase());
      b.document.name = name;
    }
  }
}

/**
 * What a continued answer asks a model that takes no prefill (`rules.prefill` false), after the
 * delivered part as an assistant turn: the model's reply is appended to that part.
 */
export const continueAnswerPrompt =
  'Your answer above was cut off. Continue it exactly where it stops: do not repeat anything, do not mention the interruption, do not start over.';

/**
 * Builds a chat call: system prompt, the conversation (roles merged to alternate, blank text
 * dropped: Bedrock refuses both), sampling per the model's rules, cache points, and — when an earlier
 * attempt delivered part of the answer — that part as an assistant prefill (thinking off then), or,
 * for a model that takes no prefill, as an assistant turn followed by a user turn asking to go on.
 */
export function buildChatInput(opts: {
  model: ModelEntry;
  system: string | null;
  messages: { role: 'user' | 'assistant'; content: Block[] }[];
  params: ModelParams;
  /** Text an earlier attempt delivered: the model continues it. */
  prefill?: string;
  /** False when the turn must not think (continuing an answer or thinking already delivered). */
  thinking?: boolean;
}): ConverseInput & { thinkingBudget?: number } {
  const { model } = opts;
  const messages = mergeSameRole(
    withinMediaLimits(model, opts.messages)
      .map((m) => ({ role: m.role, content: m.content.filter((b) => b.type !== 'text' || b.text.trim() !== '').map(toConverseBlock) }))
      .filter((m) => m.content.length > 0),
  );
  uniqueDocumentNames(messages);
  const system = opts.system?.trim() ? [{ text: opts.system } as ConverseBlock] : undefined;
  // Bedrock rejects a prefill that ends in whitespace.
  const prefill = opts.prefill?.trimEnd() ?? '';
  const sampling = samplingFor(model, opts.params, { thinking: prefill ? false : opts.thinking });
  const input: ConverseInput & { thinkingBudget?: number } = {
    modelId: model.id,
    messages,
    ...(system ? { system } : {}),
    ...sampling,
  };
  addCachePoints(model, input);
  if (prefill) messages.push({ role: 'assistant', content: [{ text: prefill }] });
  if (prefill && !rulesOf(model).prefill) messages.push({ role: 'user', content: [{ text: continueAnswerPrompt }] });
  return input;
}

/**
 * Bedrock counts images and documents over the whole request: past the model's limits the older
 * ones are replaced by a short note (the newest stay), so a long conversation with many
 * attachments is still answered.
 */
export function withinMediaLimits<M extends { role: 'user' | 'assistant'; content: Block[] }>(model: ModelEntry, messages: readonly M[]): M[] {
  const rules = rulesOf(model);
  let images = 0;
  let documents = 0;
  const kept = [...messages].reverse().map((m) => ({
    ...m,
    content: [...m.content].reverse().map((b): Block => {
      if (b.type === 'image' && ++images > rules.images.maxCount) return { type: 'text', text: '[an earlier image, not sent again]' };
      if (b.type === 'document' && ++documents > rules.documents.maxCount) return { type: 'text', text: `[earlier document ${b.name}, not sent again]` };
      return b;
    }).reverse(),
  }));
  return kept.reverse();
}

/** Roles must alternate and start with the user: a failed turn leaves two user messages in a row. */
export function mergeSameRole(messages: ConverseMessage[]): ConverseMessage[] {
  const merged: ConverseMessage[] = [];
  for (const m of messages) {
    const last = merged.at(-1);
    if (last && last.role === m.role) last.content.push(...m.content);
    else merged.push({ role: m.role, content: [...m.content] });
  }
  while (merged[0]?.role === 'assistant') merged.shift();
  return merged;
}

/**
 * A one-message call (summaries, compression, titles): system (cached when long enough), one user
 * text; `maxTokens` is the answer's, with room on top for a model that always thinks; `effort` where
 * the model takes it (a title asks for little).
 */
export function buildTextInput(opts: { model: ModelEntry; system: string; prompt: string; maxTokens: number; temperature?: number; effort?: EffortLevel }): ConverseInput {
  const rules = rulesOf(opts.model);
  const room = rules.alwaysThinks ? alwaysThinkingRoom : 0;
  const input: ConverseInput = {
    modelId: opts.model.id,
    system: [{ text: opts.system }],
    messages: [{ role: 'user', content: [{ text: opts.prompt }] }],
    inferenceConfig: { maxTokens: Math.min(opts.maxTokens + room, opts.model.maxOutputTokens) },
  };
  const effort = effortFields(opts.model, effortFor(opts.model, { effort: opts.effort }));
  if (effort) input.additionalModelRequestFields = effort;
  if (opts.temperature !== undefined && rules.sampling) input.inferenceConfig.temperature = opts.temperature;
  if (rules.promptCache && estimateBlockTokens(input.system!) >= rules.promptCache.minTokens) input.system!.push(cachePoint);
  return input;
}

/** Bedrock's usage (Converse response or ConverseStream metadata) in the contract's shape. */
export function usageFrom(usage: { inputTokens?: number; outputTokens?: number; cacheReadInputTokens?: number; cacheWriteInputTokens?: number } | undefined) {
  return {
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    ...(usage?.cacheReadInputTokens ? { cacheReadTokens: usage.cacheReadInputTokens } : {}),
    ...(usage?.cacheWriteInputTokens ? { cacheWriteTokens: usage.cacheWriteInputTokens } : {}),
  };
}

/** USD for a call at the model's catalog prices (null without usage). */
export function costOf(model: ModelEntry, usage: TokenCounts | null): number | null {
  return usage ? callCostUsd(model.price, usage) : null;
}
