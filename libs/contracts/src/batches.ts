import { z } from 'zod';
import { batchLimits, batchStatusValues, jobLimits, jobStatusValues } from './constants.js';
import { jobSchema, summarizeFields, textOrDocuments } from './jobs.js';
import { boundedJsonRecord, safeText } from './safe-text.js';

/** One item of a batch: a summarize body without `callbackUrl`, plus the client's own `customId`. */
export const batchItemSchema = z
  .object({
    /** Your id for the item, unique within the batch; results and jobs carry it. */
    customId: safeText().min(1).max(batchLimits.maxCustomIdChars),
    ...summarizeFields,
  })
  .strict()
  .refine(textOrDocuments, { message: 'text or documents is required' })
  .meta({ anyOf: [{ required: ['text'] }, { required: ['documents'] }] });
export type BatchItem = z.infer<typeof batchItemSchema>;

/**
 * `POST /v1/batches` as JSON. As JSONL (`Content-Type: application/x-ndjson`) the body is one item a
 * line, and `callbackUrl`/`metadata` of the batch come from the query (`?callbackUrl=`).
 * Every item is checked before anything is stored: one invalid item refuses the whole batch (400
 * listing the items' errors), so a batch is stored whole or not at all.
 */
export const batchCreateSchema = z
  .object({
    items: z.array(batchItemSchema).min(1).max(batchLimits.maxItems),
    /** Receives `{ event: "batch.completed"|"batch.cancelled", batch, metadata? }` once, when the batch ends. */
    callbackUrl: z.url({ protocol: /^https?$/ }).max(2000).optional(),
    metadata: boundedJsonRecord(jobLimits.maxMetadataBytes).optional(),
  })
  .strict();
export type BatchCreate = z.infer<typeof batchCreateSchema>;

/** Query of a JSONL `POST /v1/batches` (the batch-level fields a JSON body would carry). */
export const batchJsonlQuerySchema = z
  .object({ callbackUrl: z.url({ protocol: /^https?$/ }).max(2000).optional() })
  .strict();

const countsShape = Object.fromEntries(jobStatusValues.map((s) => [s, z.number().int()])) as Record<(typeof jobStatusValues)[number], z.ZodNumber>;

/** A batch: counts of its items by status. `completed` once every item ended; `cancelled` after `DELETE`. */
export const batchSchema = z.object({
  id: z.string(),
  status: z.enum(batchStatusValues),
  /** Items in the batch. */
  total: z.number().int(),
  counts: z.object(countsShape),
  metadata: z.record(z.string(), z.unknown()).optional(),
  callback: z.object({ status: z.enum(['pending', 'delivered', 'failed']).optional(), attempts: z.number().int() }).optional(),
  createdAt: z.string(),
  finishedAt: z.string().optional(),
});
export type Batch = z.infer<typeof batchSchema>;

/** One line of `GET /v1/batches/:id/results` (JSONL, in item order). */
export const batchResultLineSchema = z.object({
  customId: z.string(),
  jobId: z.string(),
  status: z.enum(jobStatusValues),
  summary: z.string().optional(),
  error: jobSchema.shape.error,
  usage: jobSchema.shape.usage,
  costUsd: z.number().optional(),
});
export type BatchResultLine = z.infer<typeof batchResultLineSchema>;

/** Body POSTed to a batch's callbackUrl once, when it ends (headers as for job callbacks). */
export const batchWebhookPayloadSchema = z.object({
  event: z.enum(['batch.completed', 'batch.cancelled']),
  batch: batchSchema,
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type BatchWebhookPayload = z.infer<typeof batchWebhookPayloadSchema>;
