import { z } from 'zod';
import { effortLevels } from './params.js';

/** Document formats the Converse API accepts. */
export const bedrockDocumentFormats = ['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md'] as const;

/**
 * What Bedrock accepts from a model (every field has a default: the Claude 3 behaviour, the
 * Converse API's media limits, no thinking, no prompt caching).
 */
export const modelRulesSchema = z.object({
  /** temperature and topP may not both be sent (Claude Opus 4.1 and the 4.5 family on). */
  exclusiveSampling: z.boolean().default(false),
  /** top_k (sent as an additional model field) and its range; false = not accepted. */
  topK: z
    .union([z.literal(false), z.object({ min: z.number().int().min(0), max: z.number().int().min(1) })])
    .default({ min: 0, max: 500 }),
  images: z
    .object({
      maxCount: z.number().int().min(0).default(20),
      maxBytes: z.number().int().positive().default(3_932_160),
      maxPixels: z.number().int().positive().default(8000),
    })
    .prefault({}),
  documents: z
    .object({
      maxCount: z.number().int().min(0).default(5),
      maxBytes: z.number().int().positive().default(4_718_592),
      formats: z.array(z.enum(bedrockDocumentFormats)).min(1).default([...bedrockDocumentFormats]),
    })
    .prefault({}),
  /** Extended thinking: the smallest budget (tokens); false = not supported. */
  thinking: z.union([z.literal(false), z.object({ minBudget: z.number().int().positive() })]).default(false),
  /**
   * How thinking is asked for: `budget` (`thinking: { type: "enabled", budget_tokens }`) or
   * `adaptive` (`{ type: "adaptive" }`: Claude Opus 4.7 and later refuse a budget, and "disabled").
   * With adaptive thinking the budget only makes room for thinking under maxTokens.
   */
  thinkingMode: z.enum(['budget', 'adaptive']).default('budget'),
  /**
   * What the model returns of its thinking unless asked: `summarized` text, or `omitted` (empty
   * thinking blocks: Claude Opus 4.7 and later). The worker asks for `summarized` where the default
   * is `omitted`, so the portal can show the thinking.
   */
  thinkingDisplay: z.enum(['summarized', 'omitted']).default('summarized'),
  /**
   * The model thinks (adaptively) even when the request does not ask, within `maxTokens` (the Claude
   * 5 models and Mythos): the worker makes room for thinking on every call, asked or not.
   */
  alwaysThinks: z.boolean().default(false),
  /**
   * `output_config.effort`: the levels the model takes (Claude Opus 4.5, the 4.6 models, Opus 4.7
   * on), the one it uses when a request sets none (`high`, Opus 5.5 `medium`), and the
   * `anthropic_beta` flag Bedrock wants with it where effort is still a beta (Opus 4.5:
   * `effort-2025-11-24`; without it "output_config.effort: Extra inputs are not permitted"); false =
   * not supported.
   */
  effort: z
    .union([
      z.literal(false),
      z
        .object({
          levels: z.array(z.enum(effortLevels)).min(1),
          default: z.enum(effortLevels).default('high'),
          beta: z.string().regex(/^[a-z0-9-]{1,100}$/).optional(),
        })
        .refine((e) => e.levels.includes(e.default), { message: 'effort.default must be one of effort.levels', path: ['default'] }),
    ])
    .default(false),
  /**
   * An assistant prefill (the request ending on an assistant message, which the model continues) is
   * accepted. The Claude 4.6 models and later refuse it with 400 ("This model does not support
   * assistant message prefill"): a continued answer then asks the model in a user turn.
   */
  prefill: z.boolean().default(true),
  /** temperature, top_p and top_k are accepted (Claude Opus 4.7 and later refuse all three). */
  sampling: z.boolean().default(true),
  /** Prompt caching: minimum tokens of prefix per cache point, most cache points per request; false = none. */
  promptCache: z
    .union([z.literal(false), z.object({ minTokens: z.number().int().positive(), maxPoints: z.number().int().min(1).max(4) })])
    .default(false),
});
export type ModelRules = z.infer<typeof modelRulesSchema>;
export type ModelRulesInput = z.input<typeof modelRulesSchema>;

/** One entry of the model catalog (`MODELS_FILE`). */
export const modelEntrySchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  vision: z.boolean().default(false),
  documents: z.boolean().default(false),
  maxOutputTokens: z.number().int().positive(),
  contextWindow: z.number().int().positive(),
  quota: z.object({
    requestsPerMinute: z.number().int().positive(),
    tokensPerMinute: z.number().int().positive(),
    /**
     * Quota tokens each output token uses up (Bedrock's "burndown rate"); absent = what Bedrock
     * does for the model id (`knownOutputBurndown`).
     */
    outputBurndown: z.number().int().min(1).max(100).optional(),
  }),
  /**
   * Tokens this model's tokenizer makes of a text per token of the Claude 3 tokenizer; absent = what
   * is known for the model id (`knownTokenizerRatio`). Input token estimates scale by it.
   */
  tokenizerRatio: z.number().min(1).max(4).optional(),
  price: z.object({
    inputPer1k: z.number().nonnegative(),
    outputPer1k: z.number().nonnegative(),
    /** Input tokens read from the prompt cache (default: the input price). */
    cacheReadPer1k: z.number().nonnegative().optional(),
    /** Input tokens written to the prompt cache (default: the input price). */
    cacheWritePer1k: z.number().nonnegative().optional(),
  }),
  /**
   * What Bedrock accepts from this model; omitted fields take the defaults of `modelRulesSchema`.
   * Without `rules` at all, what Bedrock is known to do for the model id (`knownModelRules`).
   */
  rules: modelRulesSchema.optional(),
  default: z.boolean().optional(),
  /**
   * Groups (`cognito:groups`/`groups` claim) whose members may use the model; absent = everyone.
   * An empty list = nobody but admins of the catalog (no one may call it).
   */
  allowedGroups: z.array(z.string().min(1).max(200)).max(100).optional(),
}).transform((entry) => ({ ...entry, rules: entry.rules ?? modelRulesSchema.parse(knownModelRules(entry.id)) }));
export type ModelEntry = z.infer<typeof modelEntrySchema>;
/** A catalog entry as written in a file (rules and flags may be left out). */
export type ModelEntryInput = z.input<typeof modelEntrySchema>;

export const modelCatalogSchema = z
  .array(modelEntrySchema)
  .min(1)
  .refine((models) => new Set(models.map((m) => m.id)).size === models.length, 'model ids must be unique')
  .refine((models) => models.filter((m) => m.default).length <= 1, 'at most one model may be the default');
export type ModelCatalog = z.infer<typeof modelCatalogSchema>;

/** What `GET /v1/models` returns per model: the catalog entry without quota and token-counting internals. */
export type PublicModel = Omit<ModelEntry, 'quota' | 'allowedGroups' | 'tokenizerRatio'>;

/** True when a caller in `groups` may use the model (no `allowedGroups` = everyone). */
export function mayUseModel(model: { allowedGroups?: readonly string[] }, groups: readonly string[]): boolean {
  return model.allowedGroups === undefined || model.allowedGroups.some((g) => groups.includes(g));
}

export function defaultModel(catalog: readonly ModelEntry[]): ModelEntry {
  return catalog.find((m) => m.default) ?? catalog[0]!;
}

/** Claude 3.7 Sonnet, the Claude 4 family and the models after it: they think, and burn output 5×. */
const claude37AndLater = /claude-3-7|claude-(sonnet|haiku|opus)-4|claude-[a-z]+-[5-9]|claude-mythos/;
/** Claude Opus 4.7 and the models after it: adaptive thinking only, no sampling parameters, a new tokenizer. */
const opus47AndLater = /claude-opus-4-[7-9]|claude-[a-z]+-[5-9]|claude-mythos/;
/** Claude Opus 4.6 and Sonnet 4.6. */
const claude46 = /claude-(opus|sonnet)-4-6/;
/** The Claude 5 generation and Mythos. */
const claude5AndMythos = /claude-[a-z]+-[5-9]|claude-mythos/;

/**
 * Bedrock's rules for Claude model ids (foundation models and inference profiles) as its docs and
 * error messages show them: Opus 4.1 and the 4.5 family on refuse temperature with top_p; 3.7 and 4.x
 * think; Opus 4.5 on take an effort; the 4.6 models on take no prefill; Opus 4.7 on think adaptively
 * only and take no temperature, top_p or top_k (Bedrock user guide, "Adaptive thinking"); the Claude
 * 5 models always think; prompt caching per model minimum. Unknown ids get the defaults (Claude 3
 * behaviour).
 */
export function knownModelRules(modelId: string): ModelRulesInput {
  const id = modelId.toLowerCase();
  const rules: ModelRulesInput = {};
  if (/claude-(opus-4-1|(sonnet|haiku|opus)-4-[5-9])/.test(id)) rules.exclusiveSampling = true;
  if (claude37AndLater.test(id)) rules.thinking = { minBudget: 1024 };
  // No assistant prefill from the 4.6 models on (Claude docs, "What's new in Claude 4.6": prefill removal).
  if (claude46.test(id) || opus47AndLater.test(id)) rules.prefill = false;
  // Adaptive thinking: recommended on the 4.6 models (a budget is deprecated there), the only way on
  // Opus 4.7 on, which take no sampling parameters either.
  if (claude46.test(id)) rules.thinkingMode = 'adaptive';
  if (opus47AndLater.test(id)) {
    rules.thinkingMode = 'adaptive';
    rules.thinkingDisplay = 'omitted';
    rules.sampling = false;
  }
  // The Claude 5 models and Mythos think unless told not to (Opus 5.5 and Fable cannot be told).
  if (claude5AndMythos.test(id)) rules.alwaysThinks = true;
  // Effort (Claude docs, "Effort"): low to high on Opus 4.5; max too on the 4.6 models and Mythos
  // Preview; xhigh too on Opus 4.7 on and the Claude 5 models.
  if (/claude-opus-4-5/.test(id)) rules.effort = { levels: ['low', 'medium', 'high'], beta: 'effort-2025-11-24' };
  else if (claude46.test(id) || /claude-mythos-preview/.test(id)) rules.effort = { levels: ['low', 'medium', 'high', 'max'] };
  else if (opus47AndLater.test(id)) rules.effort = { levels: [...effortLevels] };
  // A request without an effort gets the model's default: high, but medium on Opus 5.5 (Claude docs,
  // the models overview's "Default effort").
  if (rules.effort && /claude-opus-5-5/.test(id)) rules.effort.default = 'medium';
  if (/claude-(haiku-4-[5-9]|opus-4-[5-9])/.test(id)) rules.promptCache = { minTokens: 4096, maxPoints: 4 };
  else if (/claude-3-7|claude-(sonnet|opus)-4/.test(id)) rules.promptCache = { minTokens: 1024, maxPoints: 4 };
  else if (/claude-3-5-haiku/.test(id)) rules.promptCache = { minTokens: 2048, maxPoints: 4 };
  return rules;
}

/**
 * Bedrock's output-token burndown rate for Claude model ids: 5 for Claude 3.7 Sonnet, the Claude 4
 * family (Opus, Sonnet and Haiku 4.x) and the models after it, 1 for earlier models and unknown
 * ids. Its docs ("How tokens are counted in Amazon Bedrock"): a call reserves `input + maxTokens ×
 * rate` of the tokens-per-minute quota when it starts and uses `input + cache writes + output ×
 * rate` in the end.
 */
export function knownOutputBurndown(modelId: string): number {
  return claude37AndLater.test(modelId.toLowerCase()) ? 5 : 1;
}

/** The quota tokens one output token of this model uses up (see `knownOutputBurndown`). */
export function outputBurndownOf(model: { id: string; quota: { outputBurndown?: number } }): number {
  return model.quota.outputBurndown ?? knownOutputBurndown(model.id);
}

/**
 * Tokens per Claude 3 token of the same text for a Claude model id: 1.35 for Opus 4.7 and the
 * models after it, whose tokenizer makes 1.0 to 1.35 times as many tokens depending on the content
 * (Anthropic's Opus 4.7 notes; estimates take the top of that range), 1 for the rest.
 */
export function knownTokenizerRatio(modelId: string): number {
  return opus47AndLater.test(modelId.toLowerCase()) ? 1.35 : 1;
}

/** The model's tokens per Claude 3 token (see `knownTokenizerRatio`). */
export function tokenizerRatioOf(model: { id: string; tokenizerRatio?: number }): number {
  return model.tokenizerRatio ?? knownTokenizerRatio(model.id);
}

/**
 * How a Claude model id scales an image before counting it: Bedrock fits the image into a long
 * edge and a pixel count, then counts (width × height) / 750 tokens. Before Claude Opus 4.7: 1568
 * pixels on the long edge, about 1,600 tokens; Opus 4.7 and the models after it: 2576 pixels and
 * 3.75 megapixels, about 5,000 tokens.
 */
export type ImageScale = { maxEdge: number; maxTokens: number };

export function knownImageScale(modelId: string): ImageScale {
  return opus47AndLater.test(modelId.toLowerCase()) ? { maxEdge: 2576, maxTokens: 5000 } : { maxEdge: 1568, maxTokens: 1600 };
}

/**
 * An image's tokens on the safe side of Bedrock's count: (width × height) / 750 once scaled to fit
 * the model, plus a sixth (the formula is Anthropic's approximation), at most the model's most. An
 * image whose size is not known counts the most.
 */
export function imageTokensOf(size: { width: number; height: number } | undefined, scale: ImageScale): number {
  if (!size || !(size.width > 0) || !(size.height > 0)) return scale.maxTokens;
  const fit = Math.min(1, scale.maxEdge / Math.max(size.width, size.height));
  return Math.min(scale.maxTokens, Math.ceil(((size.width * fit * size.height * fit) / 750) * (7 / 6)));
}

/** How Bedrock counts a model's input, for estimates that stay at or above its count. */
export type InputCounting = { tokenizerRatio: number; images: ImageScale };

export function inputCountingOf(model: { id: string; tokenizerRatio?: number }): InputCounting {
  return { tokenizerRatio: tokenizerRatioOf(model), images: knownImageScale(model.id) };
}

/** What a finished call used of the model's tokens-per-minute quota: cache reads do not count. */
export function quotaTokensOf(
  model: { id: string; quota: { outputBurndown?: number } },
  usage: { inputTokens: number; outputTokens: number; cacheWriteTokens?: number },
): number {
  return usage.inputTokens + (usage.cacheWriteTokens ?? 0) + usage.outputTokens * outputBurndownOf(model);
}

const parsedRules = new WeakMap<object, Readonly<ModelRules>>();

/**
 * A model's rules, defaults filled in (entries built in code may leave `rules` out). Parsed once
 * per catalog entry: every Bedrock request asks several times (a reloaded catalog has new entries).
 */
export function rulesOf(model: { id: string; rules?: ModelRulesInput }): Readonly<ModelRules> {
  let rules = parsedRules.get(model);
  if (!rules) parsedRules.set(model, (rules = modelRulesSchema.parse(model.rules ?? knownModelRules(model.id))));
  return rules;
}
