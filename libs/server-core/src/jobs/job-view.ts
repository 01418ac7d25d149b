import type { Batch, Job, JobStatusValue } from '@switchboard/contracts';
import type { BatchRow, JobRow } from '../db/schema.js';

type OptionalJobColumns = 'modelId' | 'input' | 'callbackUrl' | 'callbackStatus' | 'callbackAttempts' | 'batchId' | 'customId' | 'inputPurgedAt' | 'resultPurgedAt';

/** A summarize job row as the wire contract's Job (shared by the REST API and the callbacks). */
export function toJob(
  row: Pick<JobRow, 'id' | 'status' | 'progress' | 'result' | 'usage' | 'error' | 'createdAt' | 'startedAt' | 'finishedAt'> &
    Partial<Pick<JobRow, OptionalJobColumns>> & { name?: string | null; metadata?: unknown },
): Job {
  const job: Job = { id: row.id, type: 'summarize', status: row.status, createdAt: row.createdAt.toISOString() };
  const name = row.name ?? (row.input as { name?: unknown } | null | undefined)?.name;
  if (typeof name === 'string' && name) job.name = name;
  if (row.modelId) job.modelId = row.modelId;
  if (row.progress !== null && row.progress !== undefined) job.progress = row.progress;
  const summary = (row.result as { summary?: unknown } | null)?.summary;
  if (typeof summary === 'string') job.result = { summary };
  if (row.usage) {
    const { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens, costUsd } = row.usage as typeof row.usage & { costUsd?: number };
    job.usage = { inputTokens, outputTokens };
    if (cacheReadTokens) job.usage.cacheReadTokens = cacheReadTokens;
    if (cacheWriteTokens) job.usage.cacheWriteTokens = cacheWriteTokens;
    if (typeof costUsd === 'number') job.usage.costUsd = costUsd;
  }
  if (row.error) job.error = { code: row.error.code, message: row.error.message };
  const metadata = row.metadata !== undefined ? row.metadata : (row.input as { metadata?: unknown } | null | undefined)?.metadata;
  if (metadata && typeof metadata === 'object') job.metadata = metadata as Record<string, unknown>;
  if (row.callbackUrl) job.callback = { ...(row.callbackStatus ? { status: row.callbackStatus } : {}), attempts: row.callbackAttempts ?? 0 };
  if (row.batchId) job.batchId = row.batchId;
  if (row.customId) job.customId = row.customId;
  if (row.inputPurgedAt) job.inputPurgedAt = row.inputPurgedAt.toISOString();
  if (row.resultPurgedAt) job.resultPurgedAt = row.resultPurgedAt.toISOString();
  if (row.startedAt) job.startedAt = row.startedAt.toISOString();
  if (row.finishedAt) job.finishedAt = row.finishedAt.toISOString();
  return job;
}

/** The callback event for a job that ended. */
export function webhookEventOf(status: JobRow['status']): 'job.completed' | 'job.failed' | 'job.cancelled' {
  return status === 'completed' ? 'job.completed' : status === 'cancelled' ? 'job.cancelled' : 'job.failed';
}

/** A job's label when the client gave none: its first document's name, else the first words of its text. */
export function jobNameOf(input: { text?: string; documents?: { name: string }[] }): string {
  const doc = input.documents?.[0]?.name;
  if (doc) return input.documents!.length > 1 ? `${doc} (+${input.documents!.length - 1})` : doc;
  const text = (input.text ?? '').replace(/\s+/g, ' ').trim();
  return text.length > 60 ? `${text.slice(0, 57)}…` : text || 'Summary';
}

/** Item counts of a batch by status (every status present, 0 when none). */
export type BatchCounts = Record<JobStatusValue, number>;

/** A batch row and its counts as the wire contract's Batch. */
export function toBatch(row: BatchRow, counts: Partial<BatchCounts>): Batch {
  const batch: Batch = {
    id: row.id,
    status: row.status,
    total: row.itemCount,
    counts: { queued: 0, active: 0, completed: 0, failed: 0, cancelled: 0, ...counts },
    createdAt: row.createdAt.toISOString(),
  };
  if (row.metadata) batch.metadata = row.metadata;
  if (row.callbackUrl) batch.callback = { ...(row.callbackStatus ? { status: row.callbackStatus } : {}), attempts: row.callbackAttempts };
  if (row.finishedAt) batch.finishedAt = row.finishedAt.toISOString();
  return batch;
}

/** The batch's state from its items, while it is not cancelled: completed once none is open. */
export function batchStatusOf(counts: Partial<BatchCounts>): 'queued' | 'active' | 'completed' {
  if ((counts.queued ?? 0) + (counts.active ?? 0) === 0) return 'completed';
  if ((counts.active ?? 0) + (counts.completed ?? 0) + (counts.failed ?? 0) + (counts.cancelled ?? 0) > 0) return 'active';
  return 'queued';
}
