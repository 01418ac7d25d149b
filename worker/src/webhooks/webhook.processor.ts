import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { type Job, UnrecoverableError } from 'bullmq';
import { type BatchWebhookPayload, type WebhookPayload, webhookHeaders } from '@switchboard/contracts';
import {
  type AppConfig,
  attemptNumber,
  CallbackTargetError,
  isFinalAttempt,
  isPublicAddress,
  type Logger,
  safeLookup,
  webhookSignatureHeader,
  toBatch,
  toJob,
  type WebhookJobData,
  webhookEventOf,
  webhookJobId,
} from '@switchboard/server-core';
import type { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';

export type WebhookDeps = { config: AppConfig; repository: WebhookDeliveriesRepository; logger: Logger };

/**
 * POSTs a finished job (or batch) to its callbackUrl, signed with the owner's secret (and, during
 * a rotation's grace period, the previous one). Every attempt goes to the delivery log. Anything
 * but a 2xx is retried on the callback schedule (webhookRetryDelayMs: exponential with jitter, for
 * about a day by default); private targets are refused again at connect time.
 */
export function createWebhookProcessor(deps: WebhookDeps) {
  return async (job: Job<WebhookJobData>): Promise<void> => {
    const target = await loadTarget(deps, job.data);
    if (!target) return;
    const log = deps.logger.child({ ...(job.data.batchId ? { batchId: job.data.batchId } : { jobId: job.data.jobId }), requestId: target.requestId, attempt: attemptNumber(job) });
    const body = JSON.stringify(target.payload);
    const timestamp = Math.floor(Date.now() / 1000).toString();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Switchboard-Webhooks/1',
      [webhookHeaders.event]: target.payload.event,
      [webhookHeaders.delivery]: webhookJobId(target.id),
      [webhookHeaders.timestamp]: timestamp,
      [webhookHeaders.signature]: webhookSignatureHeader(await deps.repository.secrets(target.owner), timestamp, body),
    };
    const lastAttempt = isFinalAttempt(job);
    const logTarget = job.data.batchId ? { batchId: job.data.batchId } : { jobId: job.data.jobId };
    const mark = (status: 'delivered' | 'failed') => (job.data.batchId ? deps.repository.markBatch(job.data.batchId, status) : deps.repository.mark(job.data.jobId!, status));
    const started = performance.now();
    let status: number | null = null;
    try {
      status = await post(target.url, headers, body, deps.config);
      if (status < 200 || status >= 300) throw new Error(`callback answered HTTP ${status}`);
    } catch (err) {
      const refused = (err as { code?: string }).code === 'ECALLBACKREFUSED';
      const message = (err as Error).message;
      await deps.repository.logAttempt(logTarget, { status, durationMs: Math.round(performance.now() - started), error: message }).catch(() => undefined);
      log.warn({ err: message, lastAttempt: lastAttempt || refused }, 'callback delivery failed');
      if (refused || lastAttempt) await mark('failed');
      if (refused) throw new UnrecoverableError(message);
      throw err;
    }
    await deps.repository.logAttempt(logTarget, { status, durationMs: Math.round(performance.now() - started) }).catch(() => undefined);
    await mark('delivered');
    log.info({ event: target.payload.event }, 'callback delivered');
  };
}

type Target = { id: string; owner: string; url: string; requestId: string | null; payload: WebhookPayload | BatchWebhookPayload };

async function loadTarget(deps: WebhookDeps, data: WebhookJobData): Promise<Target | undefined> {
  if (data.batchId) {
    const found = await deps.repository.batch(data.batchId);
    if (!found?.row.callbackUrl || found.row.callbackStatus === 'delivered' || (found.row.status !== 'completed' && found.row.status !== 'cancelled')) return undefined;
    const { row, counts } = found;
    const payload: BatchWebhookPayload = { event: row.status === 'cancelled' ? 'batch.cancelled' : 'batch.completed', batch: toBatch(row, counts), ...(row.metadata ? { metadata: row.metadata } : {}) };
    return { id: row.id, owner: row.owner, url: row.callbackUrl!, requestId: row.requestId, payload };
  }
  const row = await deps.repository.job(data.jobId!);
  if (!row?.callbackUrl || row.callbackStatus === 'delivered') return undefined;
  const metadata = (row.input as { metadata?: Record<string, unknown> } | null)?.metadata;
  const payload: WebhookPayload = { event: webhookEventOf(row.status), job: toJob(row), ...(metadata ? { metadata } : {}) };
  return { id: row.id, owner: row.owner, url: row.callbackUrl, requestId: row.requestId, payload };
}

function post(url: string, headers: Record<string, string>, body: string, config: AppConfig): Promise<number> {
  const target = new URL(url);
  // Node connects to a literal IP without a lookup, so those are checked here.
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !config.jobs.webhooks.allowPrivate && !isPublicAddress(host)) {
    return Promise.reject(Object.assign(new CallbackTargetError(`callbackUrl points to a non-public address (${host})`), { code: 'ECALLBACKREFUSED' }));
  }
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const { timeoutMs } = config.jobs.webhooks;
  // One deadline over the whole delivery: connect, request, and the answer with its body. A socket
  // idle timeout would let a receiver trickling a byte every few seconds hold the slot for ever.
  const signal = AbortSignal.timeout(timeoutMs);
  return new Promise((resolve, reject) => {
    const onAbort = () => req.destroy(new Error(`callback did not complete within ${timeoutMs} ms`));
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body).toString() },
        lookup: safeLookup(config.jobs.webhooks.allowPrivate) as never,
      },
      (res) => {
        res.resume(); // the answer's body is not needed
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
        res.on('close', () => (res.complete ? undefined : reject(new Error(`callback did not complete within ${timeoutMs} ms`))));
      },
    );
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => signal.removeEventListener('abort', onAbort));
    req.on('error', reject);
    req.end(body);
  });
}
