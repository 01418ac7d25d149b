import type { Job } from '@switchboard/contracts';
import type { JobRow } from '../db/schema.js';

/** A summarize job row as the wire contract's Job (shared by the REST API and the callbacks). */
export function toJob(row: Pick<JobRow, 'id' | 'status' | 'progress' | 'result' | 'usage' | 'error' | 'createdAt' | 'startedAt' | 'finishedAt'>): Job {
  const job: Job = { id: row.id, type: 'summarize', status: row.status, createdAt: row.createdAt.toISOString() };
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
