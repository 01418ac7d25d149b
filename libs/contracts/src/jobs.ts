import { z } from 'zod';
import { documentFormats, jobLimits, jobStatusValues } from './constants.js';
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
  format: safeText()
    .min(1)
    .max(100)
    .toLowerCase()
    .meta({ enum: [...documentFormats], description: `One of ${documentFormats.join(', ')}; case-insensitive (\`PDF\` is \`pdf\`). Others are refused with 415.` }),
  data: base64.min(1).max(jobLimits.maxDocumentBase64Chars),
});
export type JobDocument = z.infer<typeof jobDocumentSchema>;

/** The fields of one summarization (a `POST /v1/jobs/summarize` body, or a batch item). */
export const summarizeFields = {
  text: safeText().min(1).max(jobLimits.maxTextChars).optional(),
  documents: z.array(jobDocumentSchema).min(1).max(jobLimits.maxDocuments).optional(),
  modelId: safeText().min(1).max(200).optional(),
  /** A label for people (the portal's job list, the download's name); default: the first document's name or the first words. */
  name: safeText().trim().min(1).max(200).optional(),
  instructions: safeText().max(jobLimits.maxInstructionsChars).optional(),
  maxWords: z.number().int().min(jobLimits.minWords).max(jobLimits.maxWords).optional(),
  /** Your own labels (at most 4096 bytes of JSON, 100-character keys); returned with the job and filterable with `metadata.<key>=value`. */
  metadata: boundedJsonRecord(jobLimits.maxMetadataBytes).optional(),
};
/** "text or documents": at least one of the two (the JSON Schema says `anyOf` required text / required documents). */
export const textOrDocuments = (b: { text?: unknown; documents?: unknown }) => b.text !== undefined || b.documents !== undefined;
const textOrDocumentsSchema = { anyOf: [{ required: ['text'] }, { required: ['documents'] }] };

/** `POST /v1/jobs/summarize`: `text` or `documents` (or both). */
export const summarizeRequestSchema = z
  .object({
    ...summarizeFields,
    callbackUrl: z.url({ protocol: /^https?$/ }).max(2000).optional(),
  })
  .strict()
  .refine(textOrDocuments, { message: 'text or documents is required' })
  .meta(textOrDocumentsSchema);
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
  /** Tokens, and `costUsd` at the catalog's prices when the job ran. */
  usage: usageSchema.extend({ costUsd: z.number().optional() }).optional(),
  error: errorInfoSchema.pick({ code: true, message: true }).optional(),
  /** The metadata the job was submitted with. */
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** Jobs with a callbackUrl: whether the callback was delivered, and how many attempts it took so far. */
  callback: z.object({ status: z.enum(['pending', 'delivered', 'failed']).optional(), attempts: z.number().int() }).optional(),
  /** Items of a batch: the batch, and the item's `customId`. */
  batchId: z.string().optional(),
  customId: z.string().optional(),
  /** Retention or `DELETE …?purge=true`: when the input (text, documents) and the result were erased. */
  inputPurgedAt: z.string().optional(),
  resultPurgedAt: z.string().optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});
export type Job = z.infer<typeof jobSchema>;
export type JobPage = { items: Job[]; nextCursor: string | null };

const metadataFilterKey = /^metadata\.([A-Za-z0-9_.:-]{1,100})$/;

/**
 * `GET /v1/jobs`: unknown parameters are refused (400), not ignored. `metadata.<key>=value`
 * parameters (up to 5) keep the jobs whose metadata has that key with that string value.
 */
export const jobListQuerySchema = z
  .object({
    status: z.enum(jobStatusValues).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: safeText().max(200).optional(),
    /** Only jobs created at or after this instant (ISO 8601 date or date-time). */
    createdAfter: isoInstant().optional(),
    /** Only jobs created before this instant (ISO 8601 date or date-time). */
    createdBefore: isoInstant().optional(),
    /** Order: `-createdAt` newest first (default), `createdAt` oldest first. */
    sort: z.enum(['-createdAt', 'createdAt']).default('-createdAt'),
    batchId: z.uuid().optional(),
  })
  .catchall(safeText().max(500))
  .superRefine((query, ctx) => {
    const known = new Set(['status', 'limit', 'cursor', 'createdAfter', 'createdBefore', 'sort', 'batchId']);
    const extra = Object.keys(query).filter((k) => !known.has(k));
    const unknown = extra.filter((k) => !metadataFilterKey.test(k));
    if (unknown.length > 0) ctx.addIssue({ code: 'unrecognized_keys', keys: unknown, message: `Unrecognized key${unknown.length > 1 ? 's' : ''}: ${unknown.map((k) => `"${k}"`).join(', ')}` });
    if (extra.length - unknown.length > jobLimits.maxMetadataFilters) ctx.addIssue({ code: 'custom', message: `at most ${jobLimits.maxMetadataFilters} metadata filters` });
  })
  .transform((query) => {
    const metadata: Record<string, string> = {};
    const rest: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(query)) {
      const match = metadataFilterKey.exec(key);
      if (match) metadata[match[1]!] = String(value);
      else rest[key] = value;
    }
    return { ...(rest as { status?: JobStatusValueT; limit: number; cursor?: string; createdAfter?: Date; createdBefore?: Date; sort: '-createdAt' | 'createdAt'; batchId?: string }), metadata };
  });
type JobStatusValueT = (typeof jobStatusValues)[number];
export type JobListQuery = z.infer<typeof jobListQuerySchema>;

/** `DELETE /v1/jobs/:id`: `purge=true` also erases the job's input and result now. */
export const jobDeleteQuerySchema = z.object({ purge: z.enum(['true', 'false']).optional() }).strict();

/** One attempt to deliver a callback (`GET /v1/jobs/:id/deliveries`). */
export const webhookDeliverySchema = z.object({
  at: z.string(),
  /** The receiver's HTTP status; null when no answer came (connection refused, timeout). */
  status: z.number().int().nullable(),
  durationMs: z.number().int(),
  error: z.string().optional(),
});
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;
export const webhookDeliveryPageSchema = z.object({ items: z.array(webhookDeliverySchema) });
export type WebhookDeliveryPage = z.infer<typeof webhookDeliveryPageSchema>;

/** An ISO 8601 date (`2026-03-02`) or date-time with offset, as a Date. */
function isoInstant() {
  return z
    .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'must be an ISO 8601 date or date-time' })
    .transform((v) => new Date(v));
}

/** `POST /v1/webhooks/secret` and `GET /v1/webhooks/secret`: the caller's callback signing secret. */
export const webhookSecretSchema = z.object({
  /** The whole `whsec_…` string is the HMAC key. */
  secret: z.string(),
  createdAt: z.string(),
  /** After a rotation (`POST`): until when callbacks also carry a signature with the previous secret. */
  previousValidUntil: z.string().optional(),
});
export type WebhookSecret = z.infer<typeof webhookSecretSchema>;

/**
 * Body POSTed to a job's callbackUrl when it ends. Headers: `X-Switchboard-Event`,
 * `X-Switchboard-Delivery` (stable across retries), `X-Switchboard-Timestamp` (unix seconds) and
 * `X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the caller's secret>`;
 * for WEBHOOK_SECRET_GRACE_MS after a rotation `sha256=<with the new secret>,sha256=<with the previous one>`
 * (accept the delivery when any of the comma-separated signatures matches).
 */
export const jobWebhookPayloadSchema = z.object({
  event: z.enum(['job.completed', 'job.failed', 'job.cancelled']),
  job: jobSchema,
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type WebhookPayload = z.infer<typeof jobWebhookPayloadSchema>;
