import { createHash } from 'node:crypto';
import { CLAUDE_3_COUNTING, DOCUMENT_INPUT_TOKENS, imageBytesOf, imageSize, imageTokens, OPUS_47_IMAGES, textTokens, type TokenCounting } from './media.js';
import { validation } from './http.js';

/** What Bedrock accepts from a model (the Switchboard catalog's `rules`, defaults filled in). */
export interface ModelRules {
  exclusiveSampling: boolean;
  topK: { min: number; max: number } | false;
  thinking: { minBudget: number } | false;
  /**
   * `thinking: { type: "adaptive" }`: not known to the model (`no`), taken besides a budget
   * (`accepted`: Opus and Sonnet 4.6), or the only thinking it takes (`only`: Opus 4.7 on, which
   * refuse `enabled` and `disabled`).
   */
  adaptiveThinking: 'no' | 'accepted' | 'only';
  /** What thinking returns unless the request asks (`thinking.display`): text, or empty blocks (Opus 4.7 on). */
  thinkingDisplay: 'summarized' | 'omitted';
  /** Thinks adaptively when the request does not mention thinking (the Claude 5 models, Mythos). */
  alwaysThinks: boolean;
  /**
   * `output_config.effort`: the levels the model takes, and the `anthropic_beta` flag without which
   * Bedrock does not take `output_config` at all (Opus 4.5: effort is a beta there); false = none
   * (Bedrock: "does not support the effort parameter").
   */
  effort: { levels: string[]; beta?: string } | false;
  /** The request may end on an assistant message (a prefill); the 4.6 models on refuse it. */
  prefill: boolean;
  /** temperature, top_p and top_k are accepted (Opus 4.7 on refuse each of them). */
  sampling: boolean;
  promptCache: { minTokens: number; maxPoints: number } | false;
  images: { maxCount: number; maxBytes: number; maxPixels: number };
  documents: { maxCount: number; maxBytes: number; formats: string[] };
}

export const DOCUMENT_FORMATS = ['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md'];

const CLAUDE_3: ModelRules = {
  exclusiveSampling: false,
  topK: { min: 0, max: 500 },
  thinking: false,
  adaptiveThinking: 'no',
  thinkingDisplay: 'summarized',
  alwaysThinks: false,
  effort: false,
  prefill: true,
  sampling: true,
  promptCache: false,
  images: { maxCount: 20, maxBytes: 3_932_160, maxPixels: 8000 },
  documents: { maxCount: 5, maxBytes: 4_718_592, formats: DOCUMENT_FORMATS },
};

/** Claude 3.7 Sonnet, the Claude 4 family and the models after it: they think, and burn output 5×. */
const claude37AndLater = /claude-3-7|claude-(sonnet|haiku|opus)-4|claude-[a-z]+-[5-9]|claude-mythos/;
/** Claude Opus 4.7 and the models after it: adaptive thinking only, no sampling parameters, a new tokenizer. */
const opus47AndLater = /claude-opus-4-[7-9]|claude-[a-z]+-[5-9]|claude-mythos/;
/** Claude Opus 4.6 and Sonnet 4.6. */
const claude46 = /claude-(opus|sonnet)-4-6/;
/** The Claude 5 generation. */
const claude5 = /claude-[a-z]+-[5-9]/;

/**
 * Bedrock's rules for a Claude model id (foundation model or inference profile), as its docs and
 * its error messages show them; ids it does not know get the Claude 3 behaviour.
 */
// Kept apart from the contracts' knownModelRules on purpose: the emulator stands for Bedrock, so a
// rule the product gets wrong must fail against it rather than be copied into it.
export function knownRules(modelId: string): ModelRules {
  const id = modelId.toLowerCase();
  const rules: ModelRules = structuredClone(CLAUDE_3);
  // Opus 4.1 and every 4.5+ model refuse temperature together with top_p.
  if (/claude-(opus-4-1|(sonnet|haiku|opus)-4-[5-9])/.test(id)) rules.exclusiveSampling = true;
  if (claude37AndLater.test(id)) rules.thinking = { minBudget: 1024 };
  // Bedrock user guide, "Adaptive thinking": recommended on Opus and Sonnet 4.6, the only way on Opus
  // 4.7 and the models after it, which also refuse temperature, top_p and top_k.
  if (claude46.test(id)) rules.adaptiveThinking = 'accepted';
  // Claude docs, "What's new in Claude 4.6": prefilling assistant messages returns 400 from 4.6 on.
  if (claude46.test(id) || opus47AndLater.test(id)) rules.prefill = false;
  if (opus47AndLater.test(id)) {
    rules.adaptiveThinking = 'only';
    // Claude docs, "What's new in Claude Opus 4.7": thinking content omitted by default.
    rules.thinkingDisplay = 'omitted';
    rules.sampling = false;
  }
  // Claude docs (model overviews): the Claude 5 models think adaptively by default, Opus 5.5 and Fable
  // always; Mythos Preview turns adaptive thinking on when thinking is unset.
  if (claude5.test(id) || /claude-mythos/.test(id)) rules.alwaysThinks = true;
  // Claude docs, "Effort": Opus 4.5 takes low to high; Opus and Sonnet 4.6 and Mythos Preview max as
  // well; Opus 4.7, 4.8 and the Claude 5 models xhigh too. Sonnet and Haiku 4.5 and earlier take none.
  if (/claude-opus-4-5/.test(id)) rules.effort = { levels: ['low', 'medium', 'high'], beta: 'effort-2025-11-24' };
  else if (claude46.test(id) || /claude-mythos-preview/.test(id)) rules.effort = { levels: ['low', 'medium', 'high', 'max'] };
  else if (opus47AndLater.test(id)) rules.effort = { levels: ['low', 'medium', 'high', 'xhigh', 'max'] };
  if (/claude-(haiku-4-[5-9]|opus-4-[5-9])/.test(id)) rules.promptCache = { minTokens: 4096, maxPoints: 4 };
  else if (/claude-3-7|claude-(sonnet|opus)-4/.test(id)) rules.promptCache = { minTokens: 1024, maxPoints: 4 };
  else if (/claude-3-5-haiku/.test(id)) rules.promptCache = { minTokens: 2048, maxPoints: 4 };
  return rules;
}

/**
 * Bedrock's context window for a Claude model id, when known: 1M tokens for Opus 4.6 on, Sonnet 4.6
 * and the Claude 5 models (AWS model cards; Sonnet 4.6 and Opus 4.6 take 1M on Converse with no beta
 * header, and refuse one token more). Other Claude models: the default 200,000.
 */
export function knownContextWindow(modelId: string): number | undefined {
  const id = modelId.toLowerCase();
  return /claude-(opus-4-[6-9]|sonnet-4-6)/.test(id) || claude5.test(id) ? 1_000_000 : undefined;
}

/** Bedrock's output token limit for a Claude model id, when known. */
export function knownMaxOutputTokens(modelId: string): number | undefined {
  const id = modelId.toLowerCase();
  if (/claude-3-(haiku|sonnet|opus)-2024/.test(id)) return 4096;
  if (/claude-3-5-/.test(id)) return 8192;
  if (/claude-opus-4-(1-|2025)/.test(id)) return 32_000;
  if (/claude-opus-4-[6-9]/.test(id) || claude5.test(id)) return 128_000;
  if (/claude-3-7|claude-(sonnet|haiku|opus)-4/.test(id)) return 64_000;
  return undefined;
}

/**
 * Quota tokens each output token uses up for a Claude model id (Bedrock's "burndown rate", from
 * its docs "How tokens are counted in Amazon Bedrock"): 5 for Claude 3.7 Sonnet and the Claude 4
 * family, 1 for earlier models.
 */
export function knownOutputBurndown(modelId: string): number {
  return claude37AndLater.test(modelId.toLowerCase()) ? 5 : 1;
}

/**
 * Tokens per Claude 3 token of the same text for a Claude model id: Opus 4.7 and the models after
 * it have a tokenizer that makes 1.0 to 1.35 times as many tokens depending on the content
 * (Anthropic's Opus 4.7 notes). The emulator counts the top of that range, so an estimate that
 * holds here holds at Bedrock.
 */
export function knownTokenizerRatio(modelId: string): number {
  return opus47AndLater.test(modelId.toLowerCase()) ? 1.35 : 1;
}

/**
 * How Bedrock counts a Claude model's input (media.ts): Opus 4.7 and the models after it have the
 * new tokenizer and read images up to 2576 pixels on the long edge, about 3.75 megapixels (5,000
 * tokens). `tokenizerRatio`: the catalog's, else what is known for the id.
 */
export function knownTokenCounting(modelId: string, tokenizerRatio?: number): TokenCounting {
  const images = opus47AndLater.test(modelId.toLowerCase()) ? OPUS_47_IMAGES : CLAUDE_3_COUNTING.images;
  return { tokenizerRatio: tokenizerRatio ?? knownTokenizerRatio(modelId), images };
}

/** Catalog rules over the known ones (a partial `rules` object from a catalog entry). */
export function mergeRules(base: ModelRules, update: unknown): ModelRules {
  if (update === undefined || update === null) return base;
  if (typeof update !== 'object' || Array.isArray(update)) throw new TypeError('rules must be an object');
  // The catalog's `thinkingMode: "adaptive"` says the model takes adaptive thinking (at least).
  const u = update as Partial<ModelRules> & { thinkingMode?: string };
  return {
    exclusiveSampling: u.exclusiveSampling ?? base.exclusiveSampling,
    topK: u.topK === undefined ? base.topK : u.topK,
    thinking: u.thinking === undefined ? base.thinking : u.thinking,
    adaptiveThinking: u.adaptiveThinking ?? (u.thinkingMode === 'adaptive' && base.adaptiveThinking === 'no' ? 'accepted' : base.adaptiveThinking),
    thinkingDisplay: u.thinkingDisplay ?? base.thinkingDisplay,
    alwaysThinks: u.alwaysThinks ?? base.alwaysThinks,
    // A catalog cannot waive the beta flag Bedrock wants for the model's effort.
    effort: u.effort === undefined ? base.effort : u.effort && base.effort && base.effort.beta ? { beta: base.effort.beta, ...u.effort } : u.effort,
    prefill: u.prefill ?? base.prefill,
    sampling: u.sampling ?? base.sampling,
    promptCache: u.promptCache === undefined ? base.promptCache : u.promptCache,
    images: { ...base.images, ...u.images },
    documents: { ...base.documents, ...u.documents },
  };
}

const MODEL_SAYS = 'The model returned the following errors: ';
const THINKING_DOCS = 'Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking';

type Block = Record<string, unknown>;
type Message = { role: string; content: Block[] };

/** The Converse request's parts the rules look at. */
export interface ConverseBody {
  messages: Message[];
  system?: Block[];
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number };
  additionalModelRequestFields?: Record<string, unknown>;
}

/** `{ thinking: { type: 'enabled', budget_tokens } }` in additionalModelRequestFields → the budget. */
export function thinkingBudgetOf(body: ConverseBody): number | undefined {
  const thinking = body.additionalModelRequestFields?.['thinking'] as { type?: string; budget_tokens?: unknown } | undefined;
  if (!thinking || thinking.type !== 'enabled') return undefined;
  return typeof thinking.budget_tokens === 'number' ? thinking.budget_tokens : NaN;
}

/** `thinking.display` as asked, when it is one Bedrock takes (checkRules refuses others). */
export function thinkingDisplayOf(body: ConverseBody): 'summarized' | 'omitted' | undefined {
  const display = (body.additionalModelRequestFields?.['thinking'] as { display?: unknown } | undefined)?.display;
  return display === 'summarized' || display === 'omitted' ? display : undefined;
}

/** Bedrock's refusals that Converse and InvokeModel bodies share (the model's own words). */
const refused = {
  prefill: () => validation(`${MODEL_SAYS}This model does not support assistant message prefill. The conversation must end with a user message.`),
  sampling: (field: string) => validation(`${MODEL_SAYS}\`${field}\` is not supported for this model.`),
  bothSampling: () => validation(`${MODEL_SAYS}\`temperature\` and \`top_p\` cannot both be specified for this model. Please use only one.`),
  notAdaptive: (type: string) =>
    validation(`${MODEL_SAYS}"thinking.type.${type}" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.`),
  adaptive: () => validation(`${MODEL_SAYS}thinking.type: Input tag 'adaptive' found using 'type' does not match any of the expected tags: 'enabled', 'disabled'`),
};

/** `{ thinking: { type: 'adaptive' } }` in additionalModelRequestFields. */
export function isAdaptiveThinking(body: ConverseBody): boolean {
  return (body.additionalModelRequestFields?.['thinking'] as { type?: unknown } | undefined)?.type === 'adaptive';
}

/**
 * Refuses what Bedrock refuses for this model, with Bedrock's ValidationException texts. Runs after
 * the generic shape checks; `maxTokens` is the effective value (default applied).
 */
export function checkRules(body: ConverseBody, rules: ModelRules, maxTokens: number): void {
  const config = body.inferenceConfig ?? {};
  const extra = body.additionalModelRequestFields ?? {};
  // Empty text: Bedrock checks every text block, system included.
  (body.system ?? []).forEach((b, i) => {
    if (typeof b['text'] === 'string' && b['text'].trim() === '') {
      throw validation(`The text field in the SystemContentBlock object at system.${i} is blank. Add text to the text field, and try again.`);
    }
  });
  body.messages.forEach((m, i) =>
    m.content.forEach((b, j) => {
      if (typeof b['text'] === 'string' && b['text'].trim() === '') {
        throw validation(`The text field in the ContentBlock object at messages.${i}.content.${j} is blank. Add text to the text field, and try again.`);
      }
    }),
  );
  const last = body.messages.at(-1)!;
  if (last.role === 'assistant') {
    if (!rules.prefill) throw refused.prefill();
    const text = last.content.map((b) => (typeof b['text'] === 'string' ? b['text'] : '')).join('');
    if (/\s$/.test(text)) throw validation(`${MODEL_SAYS}final assistant content cannot end with trailing whitespace`);
  }
  checkMedia(body.messages, rules);

  if (!rules.sampling) {
    // Refused one by one, as the model names each.
    if (config.temperature !== undefined) throw refused.sampling('temperature');
    if (config.topP !== undefined) throw refused.sampling('top_p');
    if (extra['top_k'] !== undefined) throw refused.sampling('top_k');
  }
  if (rules.exclusiveSampling && config.temperature !== undefined && config.topP !== undefined) {
    throw refused.bothSampling();
  }
  const topK = extra['top_k'];
  if (topK !== undefined) {
    if (rules.topK === false) throw validation(`${MODEL_SAYS}top_k: Extra inputs are not permitted`);
    if (typeof topK !== 'number' || !Number.isInteger(topK)) throw validation(`${MODEL_SAYS}top_k: Input should be a valid integer`);
    if (topK < rules.topK.min) throw validation(`${MODEL_SAYS}top_k: Input should be greater than or equal to ${rules.topK.min}`);
    if (topK > rules.topK.max) throw validation(`${MODEL_SAYS}top_k: Input should be less than or equal to ${rules.topK.max}`);
  }
  const budget = thinkingBudgetOf(body);
  const adaptive = isAdaptiveThinking(body);
  const display = (extra['thinking'] as { display?: unknown } | undefined)?.display;
  if (display !== undefined && display !== 'summarized' && display !== 'omitted') {
    throw validation(`${MODEL_SAYS}thinking.${adaptive ? 'adaptive' : 'enabled'}.display: Input should be 'summarized' or 'omitted'`);
  }
  if (extra['thinking'] !== undefined && budget === undefined && !adaptive) {
    const type = (extra['thinking'] as { type?: unknown } | null)?.type;
    if (type !== 'disabled') throw validation(`${MODEL_SAYS}thinking.type: Input tag '${String(type)}' found using 'type' does not match any of the expected tags: 'enabled', 'disabled'`);
  }
  if (rules.adaptiveThinking === 'only' && extra['thinking'] !== undefined && !adaptive) {
    const type = budget !== undefined ? 'enabled' : 'disabled';
    throw refused.notAdaptive(type);
  }
  if (adaptive) {
    if (rules.thinking === false || rules.adaptiveThinking === 'no') {
      throw refused.adaptive();
    }
    checkThinkingCompatible(body, config, topK, last);
  }
  if (budget !== undefined) {
    if (rules.thinking === false) throw validation(`${MODEL_SAYS}thinking: Extra inputs are not permitted`);
    if (!Number.isInteger(budget)) throw validation(`${MODEL_SAYS}thinking.enabled.budget_tokens: Input should be a valid integer`);
    if (budget < rules.thinking.minBudget) {
      throw validation(`${MODEL_SAYS}thinking.enabled.budget_tokens: Input should be greater than or equal to ${rules.thinking.minBudget}`);
    }
    if (budget >= maxTokens) throw validation(`${MODEL_SAYS}\`max_tokens\` must be greater than \`thinking.budget_tokens\`. ${THINKING_DOCS}#max-tokens-and-context-window-size`);
    checkThinkingCompatible(body, config, topK, last);
  }
  checkEffort(extra['output_config'], rules, extra['anthropic_beta']);
  // Bedrock's translation to the model's format loses a cache point that directly follows a
  // document block (strands-agents issue 1966, aws-samples bedrock-client PR 119).
  body.messages.forEach((m, i) =>
    m.content.forEach((b, j) => {
      if ('cachePoint' in b && j > 0 && 'document' in m.content[j - 1]!) throw validation(`${MODEL_SAYS}messages.${i}.content.${j}.type: Field required`);
    }),
  );
  const points = cachePointCount(body);
  if (points > 0) {
    if (rules.promptCache === false) {
      throw validation('You invoked an unsupported model or your request did not allow prompt caching. See the documentation for more information.');
    }
    if (points > rules.promptCache.maxPoints) {
      throw validation(`${MODEL_SAYS}A maximum of ${rules.promptCache.maxPoints} blocks with cache_control may be provided. Found ${points}.`);
    }
  }
}

/**
 * The same model rules for an InvokeModel body (Anthropic's Messages shape: `temperature`, `top_p`,
 * `top_k`, `thinking` and `output_config` at the top level), so a client of the standalone emulator
 * is refused what Bedrock refuses there too: a prefill from the 4.6 models on, sampling parameters
 * on Opus 4.7 on, a thinking type other than adaptive where only adaptive is taken, an effort the
 * model does not take. Media, budgets and caching are checked on Converse only (the product's API).
 */
export function checkMessagesRules(body: Record<string, unknown>, rules: ModelRules): void {
  const messages = body['messages'] as { role: string }[];
  if (messages.at(-1)?.role === 'assistant' && !rules.prefill) throw refused.prefill();
  if (!rules.sampling) {
    for (const field of ['temperature', 'top_p', 'top_k']) {
      if (body[field] !== undefined) throw refused.sampling(field);
    }
  }
  if (rules.exclusiveSampling && body['temperature'] !== undefined && body['top_p'] !== undefined) throw refused.bothSampling();
  const type = (body['thinking'] as { type?: unknown } | null | undefined)?.type;
  if (body['thinking'] !== undefined && rules.adaptiveThinking === 'only' && type !== 'adaptive') {
    throw refused.notAdaptive(String(type));
  }
  if (type === 'adaptive' && (rules.thinking === false || rules.adaptiveThinking === 'no')) throw refused.adaptive();
  checkEffort(body['output_config'], rules, body['anthropic_beta']);
}

const EFFORT_LEVELS = ['low', 'medium', 'high', 'xhigh', 'max'];
/** `'a', 'b' or 'c'`, as Bedrock lists allowed values. */
const quoted = (levels: string[]) => levels.map((l) => `'${l}'`).join(', ').replace(/, ([^,]*)$/, ' or $1');

/**
 * `output_config` (additionalModelRequestFields): only `effort` is emulated (structured output's
 * `format` is refused, the product never sends it), one of the levels the model takes, with the
 * model's beta flag in `anthropic_beta` where effort is a beta (Opus 4.5).
 */
function checkEffort(outputConfig: unknown, rules: ModelRules, betas: unknown): void {
  if (outputConfig === undefined) return;
  if (typeof outputConfig !== 'object' || outputConfig === null || Array.isArray(outputConfig)) {
    throw validation(`${MODEL_SAYS}output_config: Input should be a valid dictionary`);
  }
  for (const key of Object.keys(outputConfig)) {
    if (key !== 'effort') throw validation(`${MODEL_SAYS}output_config.${key}: Extra inputs are not permitted`);
  }
  const effort = (outputConfig as { effort?: unknown }).effort;
  if (effort === undefined) return;
  if (typeof effort !== 'string' || !EFFORT_LEVELS.includes(effort)) throw validation(`${MODEL_SAYS}output_config.effort: Input should be ${quoted(EFFORT_LEVELS)}`);
  if (rules.effort === false) throw validation(`${MODEL_SAYS}This model does not support the effort parameter.`);
  const { levels, beta } = rules.effort;
  // Without its beta flag the model's schema has no output_config; with it, the beta's levels are an enum.
  if (beta !== undefined && !(Array.isArray(betas) && betas.includes(beta))) throw validation(`${MODEL_SAYS}output_config.effort: Extra inputs are not permitted`);
  if (!levels.includes(effort)) {
    throw validation(
      beta !== undefined
        ? `${MODEL_SAYS}output_config.effort: Input should be ${quoted(levels)}`
        : `${MODEL_SAYS}output_config.effort: '${effort}' is not supported by this model. Supported values: ${quoted(levels)}`,
    );
  }
}

/** What thinking (a budget or adaptive) does not go with: other sampling, top_k, a prefill without thinking. */
function checkThinkingCompatible(body: ConverseBody, config: NonNullable<ConverseBody['inferenceConfig']>, topK: unknown, last: Message): void {
  if (config.temperature !== undefined && config.temperature !== 1) {
    throw validation(`${MODEL_SAYS}\`temperature\` may only be set to 1 when thinking is enabled. ${THINKING_DOCS}#feature-compatibility`);
  }
  if (topK !== undefined) throw validation(`${MODEL_SAYS}\`top_k\` must be unset when thinking is enabled. ${THINKING_DOCS}#feature-compatibility`);
  if (config.topP !== undefined && config.topP < 0.95) {
    throw validation(`${MODEL_SAYS}\`top_p\` must be greater than or equal to 0.95 or unset when thinking is enabled. ${THINKING_DOCS}#feature-compatibility`);
  }
  if (last.role === 'assistant' && !('reasoningContent' in (last.content[0] ?? {}))) {
    throw validation(
      `${MODEL_SAYS}messages.${body.messages.length - 1}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`text\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. ${THINKING_DOCS}`,
    );
  }
}

function checkMedia(messages: Message[], rules: ModelRules): void {
  let images = 0;
  let documents = 0;
  const names = new Set<string>();
  messages.forEach((m, i) =>
    m.content.forEach((b, j) => {
      const at = `messages.${i}.member.content.${j}.member`;
      const image = b['image'] as { format?: string; source?: { bytes?: unknown } } | undefined;
      if (image) {
        images += 1;
        const bytes = decoded(image.source?.bytes);
        if (bytes.length > rules.images.maxBytes) {
          throw validation(`messages.${i}.content.${j}.image.source.bytes: image exceeds max allowed size of ${(rules.images.maxBytes / 1024 / 1024).toFixed(2)} MB`);
        }
        const size = imageSize(bytes);
        if (size && (size.width > rules.images.maxPixels || size.height > rules.images.maxPixels)) {
          throw validation(`${MODEL_SAYS}messages.${i}.content.${j}.image.source.base64.data: At least one of the image dimensions exceed max allowed size: ${rules.images.maxPixels} pixels`);
        }
      }
      const doc = b['document'] as { format?: string; name?: string; source?: { bytes?: unknown } } | undefined;
      if (doc) {
        documents += 1;
        // Letters, digits, underscores (accepted though not listed), single spaces, hyphens, parentheses
        // and brackets, at most 200; a tab or a non-ASCII space is refused too (vercel/ai 20365).
        const name = String(doc.name);
        if (!/^[A-Za-z0-9_()[\] -]{1,200}$/.test(name) || name.includes('  ')) {
          throw validation(
            "The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets. The name can't contain more than one consecutive whitespace character. Check that the file name conforms to these restrictions and retry your request.",
          );
        }
        // Names are unique across the whole request (history included).
        if (names.has(name)) throw validation("Messages can't contain duplicate document names. Rename the document and retry your request.");
        names.add(name);
        if (!rules.documents.formats.includes(String(doc.format))) {
          throw validation(
            `1 validation error detected: Value '${String(doc.format)}' at '${at}.document.format' failed to satisfy constraint: Member must satisfy enum value set: [${rules.documents.formats.join(', ')}]`,
          );
        }
        if (decoded(doc.source?.bytes).length > rules.documents.maxBytes) {
          throw validation(`The document file size exceeds the maximum of ${(rules.documents.maxBytes / 1024 / 1024).toFixed(1)} MB. Reduce the file size and try again.`);
        }
      }
    }),
  );
  if (images > rules.images.maxCount) {
    throw validation(`${MODEL_SAYS}messages: Too many images in the request. The maximum number of images is ${rules.images.maxCount}.`);
  }
  if (documents > rules.documents.maxCount) {
    throw validation(`The number of documents in the request exceeds the maximum of ${rules.documents.maxCount}. Reduce the number of documents and try again.`);
  }
}

/** Converse JSON carries blob bytes as base64. */
function decoded(bytes: unknown): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : Buffer.alloc(0);
}

function cachePointCount(body: ConverseBody): number {
  let n = 0;
  for (const b of body.system ?? []) if ('cachePoint' in b) n += 1;
  for (const m of body.messages) for (const b of m.content) if ('cachePoint' in b) n += 1;
  return n;
}

/** Bedrock's default cache TTL: an entry lives this long after its last write or read. */
export const CACHE_TTL_MS = 5 * 60 * 1000;
const MAX_CACHE_ENTRIES = 100_000;
/** How far before a cache point Bedrock looks for an earlier cached prefix (content blocks). */
const LOOKBACK_BLOCKS = 20;

/**
 * The prompt cache: prefixes ending at a cache point, keyed by model and content. A request reads
 * the longest cached prefix and writes the rest up to its last cache point (when the prefix reaches
 * the model's minimum tokens), like Bedrock's usage.cacheReadInputTokens / cacheWriteInputTokens.
 */
export class PromptCache {
  private entries = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  apply(modelId: string, body: ConverseBody, rules: ModelRules, counting: TokenCounting): { read: number; write: number } {
    if (rules.promptCache === false) return { read: 0, write: 0 };
    const min = rules.promptCache.minTokens;
    const hash = createHash('sha256').update(modelId);
    let chars = 0;
    let media = 0;
    // The prefix after each content block, and which of them carry a cache point.
    const boundaries: { key: string; tokens: number }[] = [];
    const points: number[] = [];
    const visit = (role: string, b: Block) => {
      if ('cachePoint' in b) {
        if (boundaries.length > 0) points.push(boundaries.length - 1);
        return;
      }
      hash.update(role).update(JSON.stringify(b));
      if (typeof b['text'] === 'string') chars += b['text'].length;
      else if ('image' in b) media += imageTokens(imageBytesOf(b), counting.images);
      else if ('document' in b) media += DOCUMENT_INPUT_TOKENS;
      boundaries.push({ key: hash.copy().digest('hex'), tokens: textTokens(chars, counting) + media });
    };
    for (const b of body.system ?? []) visit('system', b);
    for (const m of body.messages) for (const b of m.content) visit(m.role, b);
    const writable = points.map((i) => boundaries[i]!).filter((p) => p.tokens >= min);
    if (writable.length === 0) return { read: 0, write: 0 };
    const now = this.now();
    this.expire(now);
    // A hit is looked for at each cache point and up to LOOKBACK_BLOCKS blocks before it.
    let read = 0;
    for (const i of points) {
      for (let j = i; j >= 0 && j > i - LOOKBACK_BLOCKS; j--) {
        const p = boundaries[j]!;
        const until = this.entries.get(p.key);
        if (until !== undefined && until > now && p.tokens > read) {
          read = p.tokens;
          this.entries.set(p.key, now + CACHE_TTL_MS);
        }
      }
    }
    const longest = writable.at(-1)!.tokens;
    for (const p of writable) this.entries.set(p.key, now + CACHE_TTL_MS);
    return { read, write: Math.max(0, longest - read) };
  }

  clear(): void {
    this.entries.clear();
  }

  private expire(now: number) {
    for (const [k, until] of this.entries) if (until <= now) this.entries.delete(k);
    // Bounded: the oldest entries go first.
    for (const k of this.entries.keys()) {
      if (this.entries.size <= MAX_CACHE_ENTRIES) break;
      this.entries.delete(k);
    }
  }
}
