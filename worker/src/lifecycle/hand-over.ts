import type { Worker } from 'bullmq';

/**
 * Why this worker stops a running job without ending it: its drain deadline passed (the job goes
 * back to the queue and continues elsewhere from the delivered text), or its lock was lost (another
 * worker already has it). Passed as the abort reason of the job's signal, to tell it from a cancel.
 */
export class HandOver extends Error {
  constructor(readonly why: 'drain' | 'lock-lost') {
    super(why === 'drain' ? 'handed to another worker at the drain deadline' : 'job lock lost; another worker holds the job');
    this.name = 'HandOver';
  }
}

export function handOverOf(signal: AbortSignal | undefined): HandOver | undefined {
  return signal?.aborted && signal.reason instanceof HandOver ? signal.reason : undefined;
}

/** A lost lock means another worker may already run the job: stop ours so the answer is not streamed twice. */
export function stopJobsOnLostLock(worker: Worker): void {
  worker.on('lockRenewalFailed', (jobIds: string[]) => {
    for (const id of jobIds) worker.cancelJob(id, new HandOver('lock-lost') as unknown as string);
  });
}
