import type { Queue } from 'bullmq';
import type { ModelEntry } from '@switchboard/contracts';
import type { QuotaGovernor } from '@switchboard/server-core';

/** Job states that are work for the workers: queued, parked for quota or retry, and running. */
export const BACKLOG_STATES = ['waiting', 'prioritized', 'delayed', 'active'] as const;

/**
 * Publishes the backlog for autoscaling as CloudWatch Embedded Metric Format lines on stdout: the
 * total of jobs on every queue a worker serves (chat, summarize, webhooks) that are waiting,
 * delayed or running — running ones count, so tasks in the middle of streams are not scaled in as
 * idle — and per model the jobs waiting for that model's quota. Separate documents, so the total
 * is never a per-model value. The scaling target divides the total by running tasks and compares
 * it with one task's capacity (WORKER_CONCURRENCY).
 */
export function startBacklogReporter(opts: {
  /** The queues, or a function naming them now (per-model chat queues follow the catalog). */
  queues: Queue[] | (() => Queue[]);
  governor: QuotaGovernor;
  models: () => readonly ModelEntry[];
  intervalMs: number;
  write?: (line: string) => void;
}): () => void {
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const emf = (dimensions: string[], fields: Record<string, string | number>) =>
    JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: 'Switchboard', Dimensions: [dimensions], Metrics: [{ Name: 'QueueBacklog', Unit: 'Count' }] }],
      },
      Service: 'worker',
      ...fields,
    });
  const report = async () => {
    let total = 0;
    for (const queue of typeof opts.queues === 'function' ? opts.queues() : opts.queues) {
      const counts = await queue.getJobCounts(...BACKLOG_STATES);
      total += BACKLOG_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
    }
    write(emf(['Service'], { QueueBacklog: total }));
    for (const model of opts.models()) {
      const s = await opts.governor.snapshot(model.id);
      write(emf(['Service', 'Model'], { Model: model.id, QueueBacklog: s.waitingChats + s.waitingBatch }));
    }
  };
  const timer = setInterval(() => void report().catch(() => undefined), opts.intervalMs);
  timer.unref();
  void report().catch(() => undefined);
  return () => clearInterval(timer);
}
