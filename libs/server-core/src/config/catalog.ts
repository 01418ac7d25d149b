import { readFileSync } from 'node:fs';
import { modelCatalogSchema, type ModelEntry } from '@switchboard/contracts';
import { ConfigError, describeZodIssues } from './config.js';

const claude3Sonnet: ModelEntry = {
  id: 'anthropic.claude-3-sonnet-20240229-v1:0',
  name: 'Claude 3 Sonnet',
  vision: true,
  documents: true,
  maxOutputTokens: 4096,
  contextWindow: 200_000,
  quota: { requestsPerMinute: 60, tokensPerMinute: 200_000 },
  price: { inputPer1k: 0.003, outputPer1k: 0.015 },
};

/** Used when MODELS_FILE is not set: the Claude 3 family and current Claude models. */
export const builtInCatalog: ModelEntry[] = [
  {
    id: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    name: 'Claude Sonnet 4.5',
    vision: true,
    documents: true,
    maxOutputTokens: 64_000,
    contextWindow: 200_000,
    quota: { requestsPerMinute: 200, tokensPerMinute: 2_000_000 },
    price: { inputPer1k: 0.003, outputPer1k: 0.015 },
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
    price: { inputPer1k: 0.001, outputPer1k: 0.005 },
  },
  {
    id: 'us.anthropic.claude-opus-4-1-20250805-v1:0',
    name: 'Claude Opus 4.1',
    vision: true,
    documents: true,
    maxOutputTokens: 32_000,
    contextWindow: 200_000,
    quota: { requestsPerMinute: 50, tokensPerMinute: 500_000 },
    price: { inputPer1k: 0.015, outputPer1k: 0.075 },
  },
  {
    id: 'anthropic.claude-3-opus-20240229-v1:0',
    name: 'Claude 3 Opus',
    vision: true,
    documents: true,
    maxOutputTokens: 4096,
    contextWindow: 200_000,
    quota: { requestsPerMinute: 50, tokensPerMinute: 400_000 },
    price: { inputPer1k: 0.015, outputPer1k: 0.075 },
  },
  claude3Sonnet,
  {
    id: 'anthropic.claude-3-haiku-20240307-v1:0',
    name: 'Claude 3 Haiku',
    vision: true,
    documents: true,
    maxOutputTokens: 4096,
    contextWindow: 200_000,
    quota: { requestsPerMinute: 400, tokensPerMinute: 1_000_000 },
    price: { inputPer1k: 0.00025, outputPer1k: 0.00125 },
  },
];

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
