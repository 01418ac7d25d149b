import { createHash } from 'node:crypto';
import type { SummarizeRequest } from '@switchboard/contracts';

/**
 * sha256 of a canonical form of a summarize request: the fields that decide what the job does,
 * object keys sorted at every depth, base64 without whitespace, formats lowercase. Two requests
 * with the same fingerprint ask for the same job, so an Idempotency-Key may replay it.
 */
export function requestFingerprint(input: SummarizeRequest): string {
  const canonical = {
    text: input.text ?? null,
    documents: input.documents?.map((d) => ({ name: d.name, format: d.format.toLowerCase(), data: d.data.replace(/\s+/g, '') })) ?? null,
    modelId: input.modelId ?? null,
    instructions: input.instructions ?? null,
    maxWords: input.maxWords ?? null,
    callbackUrl: input.callbackUrl ?? null,
    metadata: input.metadata ?? null,
    name: input.name ?? null,
  };
  return createHash('sha256').update(canonicalJson(canonical)).digest('hex');
}

/** JSON with object keys sorted, so equal values give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
