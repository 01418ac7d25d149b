import type { Job } from '@switchboard/contracts';
import type { JobRow } from '../db/schema.js';

/** A summarize job row as the wire contract's Job (shared by the REST API and the callbacks). */
export function toJob(
  row: Pick<JobRow, 'id' | 'status' | 'progress' | 'result' | 'usage' | 'error' | 'createdAt' | 'startedAt' | 'finishedAt'> &
    Partial<Pick<JobRow, 'modelId' | 'input'>> & { name?: string | null },
): Job {
  const job: Job = { id: row.id, type: 'summarize', status: row.status, createdAt: row.createdAt.toISOString() };
  const name = row.name ?? (row.input as { name?: unknown } | null | undefined)?.name;
  if (typeof name === 'string' && name) job.name = name;
  if (row.modelId) job.modelId = row.modelId;
  if (row.progress !== null && row.progress !== undefined) job.progress = row.progress;
  const summary = (row.result as { summary?: unknown } | null)?.summary;
  if (typeof summary === 'string') job.result = { summary };
  if (row.usage) job.usage = { inputTokens: row.usage.inputTokens, outputTokens: row.usage.outputTokens };
  if (row.error) job.error = { code: row.error.code, message: row.error.message };
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
