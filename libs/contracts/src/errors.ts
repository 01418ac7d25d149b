import { z } from 'zod';

/** Error codes of the wire contract. REST maps them to HTTP status; socket acks carry them as is. */
export const errorCodes = [
  'bad_request',
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'internal',
  'unavailable',
  // Chat and job outcomes.
  'cancelled',
  'throttled',
  'model_error',
  'model_not_found',
  'content_too_large',
  // Documents (second round): over a DOC_* cap (413 at submit, a job/chat error code when found later),
  // unreadable, or a job that crashed workers repeatedly.
  'document_too_large',
  'invalid_document',
  'poison',
  // Batch integrators (second round): an Idempotency-Key already used with another request body.
  'idempotency_key_reused',
  // Budgets and model access (second round): over a `block` budget (402; a chat:error / job error
  // code when found at admission), a model the caller's groups may not use (403).
  'budget_exceeded',
  'model_not_allowed',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** HTTP status for each error code; codes only seen in events map to 500-free defaults. */
export const httpStatusByCode: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  cancelled: 409,
  throttled: 429,
  model_error: 502,
  model_not_found: 400,
  content_too_large: 413,
  document_too_large: 413,
  invalid_document: 422,
  poison: 422,
  idempotency_key_reused: 422,
  budget_exceeded: 402,
  model_not_allowed: 403,
};

/** `{ code, message, details? }` as carried in REST error bodies, socket acks and job records. */
export const errorInfoSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
  /** `rate_limited`: how long to wait before trying again (REST also sends `Retry-After` in seconds). */
  retryAfterMs: z.number().optional(),
});
export type ErrorInfo = z.infer<typeof errorInfoSchema>;

/** REST error body: `{ error: { code, message, details? }, requestId }`. */
export const errorBodySchema = z.object({ error: errorInfoSchema, requestId: z.string() });
export type ErrorBody = z.infer<typeof errorBodySchema>;
