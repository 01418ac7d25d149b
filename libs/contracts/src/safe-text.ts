import { z } from 'zod';

/**
 * Text PostgreSQL and JSON can store as is: no NUL character (Postgres text and jsonb refuse it)
 * and no unpaired UTF-16 surrogate (not valid Unicode; jsonb and UTF-8 encoders refuse or mangle it).
 */
export function isSafeText(value: string): boolean {
  return !value.includes('\u0000') && !loneSurrogate.test(value);
}

// Without the u flag the pattern sees UTF-16 code units, so it finds halves of pairs.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const unsafeTextMessage = 'must not contain NUL characters or unpaired surrogates';

/** Every string field of a request: a zod string that refuses NUL and lone surrogates. */
export const safeText = () => z.string().refine(isSafeText, unsafeTextMessage);

/** Depth and size limits of free-form JSON (metadata) in requests. */
export const jsonLimits = {
  /** Nesting of any request body (objects and arrays); deeper bodies are refused before validation. */
  maxBodyDepth: 32,
  /** Nesting of free-form fields such as job metadata. */
  maxFieldDepth: 8,
  /** Keys of one object / items of one array inside free-form fields. */
  maxFieldEntries: 200,
} as const;

export type JsonProblem = { path: string; message: string };

/**
 * The first problem of a parsed JSON value: nesting deeper than maxDepth, too many entries in one
 * object or array, or a string (value or key) with NUL or a lone surrogate. Iterative, so a value
 * nested 100,000 deep cannot overflow the stack.
 */
export function findJsonProblem(value: unknown, opts: { maxDepth: number; maxEntries?: number; basePath?: string }): JsonProblem | undefined {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 0, path: opts.basePath ?? '' }];
  const join = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));
  while (stack.length > 0) {
    const item = stack.pop()!;
    const v = item.value;
    if (typeof v === 'string') {
      if (!isSafeText(v)) return { path: item.path, message: unsafeTextMessage };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    const depth = item.depth + 1;
    if (depth > opts.maxDepth) return { path: item.path, message: `nested deeper than ${opts.maxDepth} levels` };
    const entries = Array.isArray(v) ? v.map((e, i) => [i, e] as const) : Object.entries(v);
    if (opts.maxEntries !== undefined && entries.length > opts.maxEntries) {
      return { path: item.path, message: `more than ${opts.maxEntries} entries` };
    }
    for (const [key, child] of entries) {
      if (typeof key === 'string' && !isSafeText(key)) return { path: item.path, message: `a key ${unsafeTextMessage}` };
      stack.push({ value: child, depth, path: join(item.path, key) });
    }
  }
  return undefined;
}

/** Free-form JSON (e.g. metadata): bounded depth, entries and total size; safe strings throughout. */
export function boundedJsonRecord(maxBytes: number) {
  return z.record(safeText().max(100), z.unknown()).superRefine((value, ctx) => {
    const problem = findJsonProblem(value, { maxDepth: jsonLimits.maxFieldDepth, maxEntries: jsonLimits.maxFieldEntries });
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path ? problem.path.split('.') : [] });
      return;
    }
    if (JSON.stringify(value).length > maxBytes) ctx.addIssue({ code: 'custom', message: `must be at most ${maxBytes} bytes of JSON` });
  });
}
