import { type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { findJsonProblem, jsonLimits } from '@switchboard/contracts';
import { AppError } from './app-error.js';

/** Parses with a contract schema; failures become `validation_failed` with the zod issues. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  // Before zod: its recursion (and JSON.stringify's) would overflow the stack on a value nested
  // 100,000 deep, and NUL or lone surrogates would fail in Postgres as a 500.
  const problem = findJsonProblem(value, { maxDepth: jsonLimits.maxBodyDepth });
  if (problem) {
    const details = [{ path: problem.path, message: problem.message }];
    throw new AppError('validation_failed', `Invalid request: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`, details);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const details = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    const summary = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
    // Size limits get their own code so clients can tell "too big" from "malformed".
    const tooBig = result.error.issues.some((i) => i.path[0] === 'content' && (i.code === 'too_big' || i.message === 'content is too large'));
    throw new AppError(tooBig ? 'content_too_large' : 'validation_failed', `Invalid request: ${summary}`, details);
  }
  return result.data;
}

export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform {
  constructor(private readonly schema: S) {}
  transform(value: unknown): z.infer<S> {
    return parseOrThrow(this.schema, value);
  }
}
