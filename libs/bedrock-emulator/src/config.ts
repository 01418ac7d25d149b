import type { ModelQuota } from './quota.js';
import { knownContextWindow, knownMaxOutputTokens, knownRules, mergeRules, type ModelRules } from './rules.js';

/** A model as the Switchboard catalog (`MODELS_FILE`) describes it; only these fields matter here. */
export interface EmulatorModel {
  id: string;
  maxOutputTokens?: number;
  contextWindow?: number;
  quota?: Partial<ModelQuota>;
  /** Tokens per Claude 3 token of a text; absent = what Bedrock's tokenizer for the model id makes (knownTokenizerRatio). */
  tokenizerRatio?: number;
  /** The catalog's rules (partial); they refine what the emulator knows of the model id. */
  rules?: Partial<ModelRules>;
}

export interface ModelSettings {
  maxOutputTokens: number;
  /** Requests with more input tokens than this get ValidationException. */
  contextWindow: number;
  quota: ModelQuota;
  /** Tokens per Claude 3 token of a text; unset = what Bedrock's tokenizer for this model id makes. */
  tokenizerRatio?: number;
  /** What Bedrock accepts from the model; unset = what Bedrock does for this model id. */
  rules?: ModelRules;
}

export interface EmulatorConfig {
  /** Output tokens (deltas) per second; `Infinity` sends everything at once. */
  tps: number;
  /** Delay before the response starts (headers and first event). */
  ttfbMs: number;
  /** The period quotas apply to (a "minute"); limits are not scaled when it changes. */
  windowMs: number;
  /** Unknown model ids get ValidationException instead of the default settings. */
  strict: boolean;
  /**
   * Off (default): requests are validated per model as Bedrock does (sampling params, top_k,
   * thinking, media, cache points, empty text) and refused with its ValidationException texts.
   * On: only the generic shape checks run.
   */
  lenient: boolean;
  defaultModel: ModelSettings;
  models: Record<string, ModelSettings>;
}

/** What `configure()` and `POST /_emulator/config` accept; every field optional. */
export interface ConfigUpdate {
  /** `null` (JSON's stand-in for Infinity) = no pacing. */
  tps?: number | null;
  ttfbMs?: number;
  windowMs?: number;
  strict?: boolean;
  lenient?: boolean;
  /** Catalog entries, merged by id into the current models. */
  models?: EmulatorModel[];
  /** Per-model overrides keyed by model id, merged into the current models. */
  quotas?: Record<string, ModelOverride>;
  /** Settings for models not listed (non-strict mode). */
  defaultQuota?: Partial<ModelQuota>;
  defaultMaxOutputTokens?: number;
}

export const DEFAULT_TPS = 200;
export const DEFAULT_TTFB_MS = 50;
export const DEFAULT_WINDOW_MS = 60_000;
/** Generous so that unconfigured models never throttle by accident. */
export const DEFAULT_QUOTA: ModelQuota = { requestsPerMinute: 100_000, tokensPerMinute: 1_000_000_000 };
export const DEFAULT_MAX_OUTPUT_TOKENS = 64_000;
export const DEFAULT_CONTEXT_WINDOW = 200_000;

type ModelOverride = Partial<ModelQuota> & { maxOutputTokens?: number; contextWindow?: number; tokenizerRatio?: number; rules?: Partial<ModelRules> };

export function defaultConfig(): EmulatorConfig {
  return {
    tps: DEFAULT_TPS,
    ttfbMs: DEFAULT_TTFB_MS,
    windowMs: DEFAULT_WINDOW_MS,
    strict: false,
    lenient: false,
    defaultModel: { maxOutputTokens: DEFAULT_MAX_OUTPUT_TOKENS, contextWindow: DEFAULT_CONTEXT_WINDOW, quota: { ...DEFAULT_QUOTA } },
    models: {},
  };
}

const UPDATE_KEYS = new Set(['tps', 'ttfbMs', 'windowMs', 'strict', 'lenient', 'models', 'quotas', 'defaultQuota', 'defaultMaxOutputTokens']);

/** Returns a new config with the update applied; throws a TypeError naming the first bad field. */
export function applyConfigUpdate(current: EmulatorConfig, update: ConfigUpdate): EmulatorConfig {
  if (typeof update !== 'object' || update === null || Array.isArray(update)) throw new TypeError('config must be an object');
  for (const key of Object.keys(update)) {
    if (!UPDATE_KEYS.has(key)) throw new TypeError(`unknown config field "${key}"`);
  }
  const next: EmulatorConfig = structuredClone(current);
  if (update.tps !== undefined) next.tps = update.tps === null ? Infinity : positive('tps', update.tps, true);
  if (update.ttfbMs !== undefined) next.ttfbMs = nonNegative('ttfbMs', update.ttfbMs);
  if (update.windowMs !== undefined) next.windowMs = positive('windowMs', update.windowMs);
  if (update.strict !== undefined) {
    if (typeof update.strict !== 'boolean') throw new TypeError('strict must be a boolean');
    next.strict = update.strict;
  }
  if (update.lenient !== undefined) {
    if (typeof update.lenient !== 'boolean') throw new TypeError('lenient must be a boolean');
    next.lenient = update.lenient;
  }
  if (update.defaultQuota !== undefined) next.defaultModel.quota = mergeQuota('defaultQuota', next.defaultModel.quota, update.defaultQuota);
  if (update.defaultMaxOutputTokens !== undefined) {
    next.defaultModel.maxOutputTokens = positiveInt('defaultMaxOutputTokens', update.defaultMaxOutputTokens);
  }
  const overrides: [string, ModelOverride][] = [];
  if (update.models !== undefined) {
    if (!Array.isArray(update.models)) throw new TypeError('models must be an array of catalog entries');
    for (const m of update.models) {
      if (typeof m?.id !== 'string' || !m.id) throw new TypeError('models[].id must be a non-empty string');
      overrides.push([m.id, { ...m.quota, maxOutputTokens: m.maxOutputTokens, contextWindow: m.contextWindow, tokenizerRatio: m.tokenizerRatio, rules: m.rules }]);
    }
  }
  if (update.quotas !== undefined) {
    if (typeof update.quotas !== 'object' || update.quotas === null) throw new TypeError('quotas must be an object keyed by model id');
    overrides.push(...Object.entries(update.quotas));
  }
  for (const [id, o] of overrides) {
    // A model configured for the first time starts from Bedrock's limits for its id, as an unconfigured one has.
    const base = next.models[id] ?? structuredClone(knownLimits(next, id));
    const { maxOutputTokens, contextWindow, tokenizerRatio, rules, ...quota } = o ?? {};
    const ratio = tokenizerRatio === undefined ? base.tokenizerRatio : between(`${id}.tokenizerRatio`, tokenizerRatio, 1, 4);
    next.models[id] = {
      rules: rules === undefined ? base.rules : mergeRules(base.rules ?? knownRules(id), rules),
      ...(ratio === undefined ? {} : { tokenizerRatio: ratio }),
      maxOutputTokens: maxOutputTokens === undefined ? base.maxOutputTokens : positiveInt(`${id}.maxOutputTokens`, maxOutputTokens),
      contextWindow: contextWindow === undefined ? base.contextWindow : positiveInt(`${id}.contextWindow`, contextWindow),
      quota: mergeQuota(id, base.quota, quota),
    };
  }
  return next;
}

function mergeQuota(name: string, base: ModelQuota, update: Partial<ModelQuota>): ModelQuota {
  return {
    requestsPerMinute:
      update.requestsPerMinute === undefined ? base.requestsPerMinute : positiveInt(`${name}.requestsPerMinute`, update.requestsPerMinute),
    tokensPerMinute:
      update.tokensPerMinute === undefined ? base.tokensPerMinute : positiveInt(`${name}.tokensPerMinute`, update.tokensPerMinute),
    ...(update.outputBurndown !== undefined
      ? { outputBurndown: positiveInt(`${name}.outputBurndown`, update.outputBurndown) }
      : base.outputBurndown !== undefined
        ? { outputBurndown: base.outputBurndown }
        : {}),
  };
}

function positive(name: string, value: unknown, allowInfinity = false): number {
  if (typeof value !== 'number' || !(value > 0) || (!allowInfinity && !Number.isFinite(value))) {
    throw new TypeError(`${name} must be a positive number`);
  }
  return value;
}

function between(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !(value >= min && value <= max)) throw new TypeError(`${name} must be a number from ${min} to ${max}`);
  return value;
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a number >= 0`);
  return value;
}

function positiveInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive integer`);
  return value;
}

/** Settings for a model id, or undefined when strict mode rejects it. */
export function modelSettings(config: EmulatorConfig, modelId: string): (ModelSettings & { rules: ModelRules }) | undefined {
  const configured = config.models[modelId];
  if (configured) return { ...configured, rules: configured.rules ?? knownRules(modelId) };
  if (config.strict) return undefined;
  // Not configured: Bedrock's limits for the model id when known, else the defaults.
  return { ...knownLimits(config, modelId), rules: knownRules(modelId) };
}

/** The default settings with Bedrock's output limit and context window for the model id, when known (not when lenient). */
function knownLimits(config: EmulatorConfig, modelId: string): ModelSettings {
  const maxOutputTokens = config.lenient ? undefined : knownMaxOutputTokens(modelId);
  const contextWindow = config.lenient ? undefined : knownContextWindow(modelId);
  return { ...config.defaultModel, ...(maxOutputTokens ? { maxOutputTokens } : {}), ...(contextWindow ? { contextWindow } : {}) };
}

/** JSON cannot carry Infinity; report it as null (= unlimited). */
export function configToJson(config: EmulatorConfig): Record<string, unknown> {
  return { ...config, tps: Number.isFinite(config.tps) ? config.tps : null };
}
