import { readFileSync } from 'node:fs';
import { modelCatalogSchema, type ModelEntry, type ModelEntryInput } from '@switchboard/contracts';
import { ConfigError, describeZodIssues } from './config.js';

// What Bedrock accepts from the current Claude models (Bedrock user guide: Claude messages
// parameters, extended thinking, prompt caching; checked with `npm run smoke:aws`).
const claude45Rules = (cacheMinTokens: number) => ({
  exclusiveSampling: true,
  topK: { min: 0, max: 500 },
  thinking: { minBudget: 1024 },
  promptCache: { minTokens: cacheMinTokens, maxPoints: 4 },
});
// Cache writes cost 1.25x the input price, reads 0.1x (5-minute TTL).
const priced = (inputPer1k: number, outputPer1k: number) => ({
  inputPer1k,
  outputPer1k,
  cacheReadPer1k: round(inputPer1k * 0.1),
  cacheWritePer1k: round(inputPer1k * 1.25),
});
const round = (n: number) => Math.round(n * 1e8) / 1e8;
// Effort levels (Claude docs, "Effort"; output_config.effort): low to high on Opus 4.5, max too on
// the 4.6 models, xhigh too on Opus 4.7.
const effort = (...more: ('xhigh' | 'max')[]) => ({ levels: ['low' as const, 'medium' as const, 'high' as const, ...more] });
// The 4.6 models: no assistant prefill (a continued answer asks in a user turn), adaptive thinking (a
// budget is deprecated on them: Bedrock user guide, "Adaptive thinking"), effort up to max.
const claude46Rules = (cacheMinTokens: number) => ({ ...claude45Rules(cacheMinTokens), thinkingMode: 'adaptive' as const, effort: effort('max'), prefill: false });
// Opus 4.7 and the Claude 5 models: adaptive thinking only (omitted unless asked), no sampling
// parameters, no prefill, every effort level.
const opus47Rules = (cacheMinTokens: number) => ({
  ...claude45Rules(cacheMinTokens),
  topK: false as const,
  thinkingMode: 'adaptive' as const,
  thinkingDisplay: 'omitted' as const,
  sampling: false,
  effort: effort('xhigh', 'max'),
  prefill: false,
});
const claude5Rules = (cacheMinTokens: number) => ({ ...opus47Rules(cacheMinTokens), alwaysThinks: true });

const entries: ModelEntryInput[] = [
  {
    id: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    name: 'Claude Sonnet 4.5',
    vision: true,
    documents: true,
    maxOutputTokens: 64_000,
    contextWindow: 200_000,
    quota: { requestsPerMinute: 200, tokensPerMinute: 2_000_000 },
    price: priced(0.003, 0.015),
    rules: claude45Rules(1024),
    default: true,
  },
  {
    id: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
    name: 'Claude Haiku 4.5',
    vision: true,
    documents: true,
    maxOutputTokens: 64_000,
    contextWindow: 200_000,
    quota: { requestsPerMinute: 400, tokensPerMinute: 4_000_000 },
    price: priced(0.001, 0.005),
    rules: claude45Rules(4096),
  },
  {
    id: 'us.anthropic.claude-opus-4-5-20251101-v1:0',
    name: 'Claude Opus 4.5',
    vision: true,
    documents: true,
    maxOutputTokens: 64_000,
    contextWindow: 200_000,
    quota: { requestsPerMinute: 50, tokensPerMinute: 500_000 },
    price: priced(0.005, 0.025),
    // Effort is a beta on Opus 4.5: Bedrock takes output_config only with its anthropic_beta flag.
    rules: { ...claude45Rules(4096), effort: { ...effort(), beta: 'effort-2025-11-24' } },
  },
  {
    id: 'us.anthropic.claude-sonnet-4-6',
    name: 'Claude Sonnet 4.6',
    vision: true,
    documents: true,
    maxOutputTokens: 64_000,
    contextWindow: 1_000_000, // on Converse with no beta header, at the same price
    quota: { requestsPerMinute: 200, tokensPerMinute: 2_000_000 },
    price: priced(0.003, 0.015),
    rules: claude46Rules(1024),
  },
  {
    id: 'us.anthropic.claude-opus-4-6-v1',
    name: 'Claude Opus 4.6',
    vision: true,
    documents: true,
    maxOutputTokens: 128_000,
    contextWindow: 1_000_000,
    quota: { requestsPerMinute: 50, tokensPerMinute: 500_000 },
    price: priced(0.005, 0.025),
    rules: claude46Rules(4096),
  },
  {
    // Thinks adaptively only and takes no temperature, top_p or top_k (Bedrock user guide,
    // "Adaptive thinking"): the portal hides those settings and a thinking budget makes room. Its
    // thinking comes back empty unless asked for ("display": "summarized").
    id: 'us.anthropic.claude-opus-4-7',
    name: 'Claude Opus 4.7',
    vision: true,
    documents: true,
    maxOutputTokens: 128_000,
    contextWindow: 1_000_000,
    quota: { requestsPerMinute: 50, tokensPerMinute: 500_000 },
    price: priced(0.005, 0.025),
    rules: opus47Rules(4096),
  },
  {
    // The Claude 5 generation (Bedrock model card, Claude docs): 1M tokens of context, 128K of
    // output, inference profiles only; thinks adaptively on every call (Opus 5.5 cannot turn it off),
    // so the worker makes room for thinking under maxTokens; everything else as Opus 4.7.
    id: 'us.anthropic.claude-opus-5-5',
    name: 'Claude Opus 5.5',
    vision: true,
    documents: true,
    maxOutputTokens: 128_000,
    contextWindow: 1_000_000,
    quota: { requestsPerMinute: 50, tokensPerMinute: 500_000 },
    price: priced(0.004, 0.02),
    // Its effort when a request sets none is medium (Claude docs, models overview).
    rules: { ...claude5Rules(4096), effort: { ...effort('xhigh', 'max'), default: 'medium' } },
  },
  {
    id: 'us.anthropic.claude-sonnet-5-5',
    name: 'Claude Sonnet 5.5',
    vision: true,
    documents: true,
    maxOutputTokens: 128_000,
    contextWindow: 1_000_000,
    quota: { requestsPerMinute: 200, tokensPerMinute: 2_000_000 },
    price: priced(0.002, 0.01),
    rules: claude5Rules(4096),
  },
  {
    // Kept for the seed's users; takes temperature and topP together, no thinking, no caching on Bedrock.
    id: 'anthropic.claude-3-haiku-20240307-v1:0',
    name: 'Claude 3 Haiku',
    vision: true,
    documents: true,
    maxOutputTokens: 4096,
    contextWindow: 200_000,
    quota: { requestsPerMinute: 400, tokensPerMinute: 1_000_000 },
    price: { inputPer1k: 0.00025, outputPer1k: 0.00125 },
    rules: { exclusiveSampling: false, topK: { min: 0, max: 500 }, thinking: false, promptCache: false },
  },
];

/** Used when MODELS_FILE is not set: the current Claude models on Bedrock and Claude 3 Haiku. */
export const builtInCatalog: ModelEntry[] = modelCatalogSchema.parse(entries);

/**
 * Reads the model catalog from MODELS_JSON (the catalog itself: containers get it in their task
 * definition, nothing is written to disk), else MODELS_FILE (JSON), else the built-in one.
 */
export function loadCatalog(modelsFile: string | undefined, modelsJson?: string): ModelEntry[] {
  if (modelsJson) return parseCatalog('MODELS_JSON', () => modelsJson);
  if (!modelsFile) return builtInCatalog;
  return parseCatalog(`MODELS_FILE ${modelsFile}`, () => readFileSync(modelsFile, 'utf8'));
}

function parseCatalog(source: string, read: () => string): ModelEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(read());
  } catch (err) {
    throw new ConfigError(`${source}: ${(err as Error).message}`);
  }
  const parsed = modelCatalogSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`${source} is not a valid model catalog: ${describeZodIssues(parsed.error)}`);
  }
  return parsed.data;
}
