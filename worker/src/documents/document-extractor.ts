import { Worker } from 'node:worker_threads';
import type { DocumentLimits } from '@switchboard/server-core';
import type { ExtractReply, ExtractRequest } from './extract-thread.js';

export type DocumentErrorCode = 'document_too_large' | 'invalid_document';

/** A document that cannot be used: the job fails with this code, without retries (the same bytes fail again). */
export class DocumentError extends Error {
  constructor(
    readonly code: DocumentErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const threadUrl = new URL('./extract-thread.js', import.meta.url);

/**
 * Extracts text from documents in worker threads with their own heap limit and a wall-time limit,
 * a few at a time: a document that inflates to gigabytes or loops in a parser ends its thread,
 * never this process (a crash here used to take the whole worker down, and the stalled job took
 * down every worker that picked it up again).
 */
export class DocumentExtractor {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limits: DocumentLimits) {}

  async extract(format: string, data: Buffer, name: string, signal?: AbortSignal): Promise<string> {
    if (data.byteLength > this.limits.maxInflatedBytes) {
      throw new DocumentError('document_too_large', `Document "${name}" is ${data.byteLength} bytes; the limit is ${this.limits.maxInflatedBytes}`);
    }
    await this.slot();
    try {
      return await this.run(format, data, name, signal);
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private async slot(): Promise<void> {
    if (this.running < this.limits.concurrency) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
  }

  private run(format: string, data: Buffer, name: string, signal?: AbortSignal): Promise<string> {
    const { maxInflatedBytes, maxChars, maxPages, timeoutMs, memoryMb } = this.limits;
    const request: ExtractRequest = { format, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), limits: { maxInflatedBytes, maxChars, maxPages } };
    return new Promise((resolve, reject) => {
      const thread = new Worker(threadUrl, {
        workerData: request,
        resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: Math.max(4, Math.min(32, Math.floor(memoryMb / 8))), stackSizeMb: 4 },
      });
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        void thread.terminate();
        fn();
      };
      const fail = (code: DocumentErrorCode, why: string) => settle(() => reject(new DocumentError(code, `Document "${name}" (${format}): ${why}`)));
      const timer = setTimeout(() => fail('document_too_large', `extraction took longer than ${timeoutMs} ms`), timeoutMs);
      const onAbort = () => fail('invalid_document', 'extraction cancelled');
      signal?.addEventListener('abort', onAbort, { once: true });
      thread.once('message', (reply: ExtractReply) => {
        if (reply.ok) settle(() => resolve(reply.text));
        else fail(reply.code, reply.message);
      });
      thread.once('error', (err: Error & { code?: string }) => {
        if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') fail('document_too_large', `extraction needed more than ${memoryMb} MB`);
        else fail('invalid_document', 'the document could not be read');
      });
      thread.once('exit', () => fail('invalid_document', 'the document could not be read'));
    });
  }
}
