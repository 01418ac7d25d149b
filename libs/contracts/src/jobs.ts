import { z } from 'zod';
import { documentFormats, jobLimits, jobStatusValues, type WebhookEvent } from './constants.js';
import { usageSchema } from './conversations.js';
import { errorInfoSchema } from './errors.js';
import { boundedJsonRecord, safeText } from './safe-text.js';

const base64 = z.string().regex(/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/, 'must be base64');

/**
 * A document to summarize. `format` is case-insensitive (stored lowercase) and checked by the API,
 * which answers 415 for formats other than pdf, txt, md, html, docx and csv (a plain validation
 * error would hide what is wrong).
 */
export const jobDocumentSchema = z.object({
  name: safeText().min(1).max(200),
  format: safeText().min(1).max(100).toLowerCase(),
  data: base64.min(1).max(jobLimits.maxDocumentBase64Chars),
});
export type JobDocument = z.infer<typeof jobDocumentSchema>;

/** `POST /v1/jobs/summarize`: `text` or `documents` (or both). */
export const summarizeRequestSchema = z
  .object({
    text: safeText().min(1).max(jobLimits.maxTextChars).optional(),
    documents: z.array(jobDocumentSchema).min(1).max(jobLimits.maxDocuments).optional(),
    modelId: safeText().min(1).max(200).optional(),
    /** A label for people (the portal's job list, the download's name); default: the first document's name or the first words. */
    name: safeText().trim().min(1).max(200).optional(),
    instructions: safeText().max(jobLimits.maxInstructionsChars).optional(),
    maxWords: z.number().int().min(jobLimits.minWords).max(jobLimits.maxWords).optional(),
    callbackUrl: z.url({ protocol: /^https?$/ }).max(2000).optional(),
    metadata: boundedJsonRecord(jobLimits.maxMetadataBytes).optional(),
  })
  .strict()
  .refine((b) => b.text !== undefined || b.documents !== undefined, { message: 'text or documents is required' });
export type SummarizeRequest = z.infer<typeof summarizeRequestSchema>;

export const supportedDocumentFormats: readonly string[] = documentFormats;

/** A summarize job as the API returns it. */
export const jobSchema = z.object({
  id: z.string(),
  type: z.literal('summarize'),
  status: z.enum(jobStatusValues),
  /** The job's label: the `name` it was submitted with, else its first document's name or first words. */
  name: z.string().optional(),
  /** The model that summarizes (prices come from the catalog). */
  modelId: z.string().optional(),
  /** 0–100; rises as chunks of a long document finish. */
  progress: z.number().int().min(0).max(100).optional(),
  result: z.object({ summary: z.string() }).optional(),
  usage: usageSchema.optional(),
  error: errorInfoSchema.pick({ code: true, message: true }).optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});
export type Job = z.infer<typeof jobSchema>;
export type JobPage = { items: Job[]; nextCursor: string | null };

/** `GET /v1/jobs`: unknown parameters are refused (400), not ignored. */
export const jobListQuerySchema = z
  .object({
    status: z.enum(jobStatusValues).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: safeText().max(200).optional(),
    /** Only jobs created at or after this instant (ISO 8601 date or date-time). */
    createdAfter: isoInstant().optional(),
    /** Only jobs created before this instant (ISO 8601 date or date-time). */
    createdBefore: isoInstant().optional(),
  })
  .strict();
export type JobListQuery = z.infer<typeof jobListQuerySchema>;

/** An ISO 8601 date (`2026-03-02`) or date-time with offset, as a Date. */
function isoInstant() {
  return z
    .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'must be an ISO 8601 date or date-time' })
    .transform((v) => new Date(v));
}

/** `POST /v1/webhooks/secret` and `GET /v1/webhooks/secret`: the caller's callback signing secret. */
export type WebhookSecret = {
  secret: string;
  createdAt: string;
  /** After a rotation (`POST`): until when callbacks also carry a signature with the previous secret. */
  previousValidUntil?: string;
};

/**
 * Body POSTed to a job's callbackUrl when it ends. Headers: `X-Switchboard-Event`,
 * `X-Switchboard-Delivery` (stable across retries), `X-Switchboard-Timestamp` (unix seconds) and
 * `X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the caller's secret>`;
 * for WEBHOOK_SECRET_GRACE_MS after a rotation `sha256=<with the new secret>,sha256=<with the previous one>`
 * (accept the delivery when any of the comma-separated signatures matches).
 */
export type WebhookPayload = { event: WebhookEvent; job: Job; metadata?: Record<string, unknown> };
