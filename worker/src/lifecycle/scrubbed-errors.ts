import { scrubRequestData } from '@switchboard/server-core';

/**
 * A job processor whose errors carry no request data: a failed statement's error quotes its
 * parameters (an answer's text, a document), and BullMQ would keep them as the job's failed reason.
 * Three declared parameters: BullMQ hands a processor its AbortSignal only when it declares one.
 */
export function withScrubbedErrors<J, R>(processor: (job: J, token?: string, signal?: AbortSignal) => Promise<R>) {
  return (job: J, token?: string, signal?: AbortSignal): Promise<R> =>
    processor(job, token, signal).catch((err: unknown) => {
      throw scrubRequestData(err);
    });
}
