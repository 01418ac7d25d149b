import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { type Job, UnrecoverableError } from 'bullmq';
import { type WebhookPayload, webhookHeaders } from '@switchboard/contracts';
import {
  type AppConfig,
  attemptNumber,
  CallbackTargetError,
  isFinalAttempt,
  isPublicAddress,
  type Logger,
  safeLookup,
  webhookSignatureHeader,
  toJob,
  type WebhookJobData,
  webhookEventOf,
  webhookJobId,
} from '@switchboard/server-core';
import type { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';

export type WebhookDeps = { config: AppConfig; repository: WebhookDeliveriesRepository; logger: Logger };

/**
 * POSTs a finished job to its callbackUrl, signed with the owner's secret. Anything but a 2xx is
 * retried by BullMQ with exponential backoff; private targets are refused again at connect time.
 */
export function createWebhookProcessor(deps: WebhookDeps) {
  return async (job: Job<WebhookJobData>): Promise<void> => {
    const row = await deps.repository.job(job.data.jobId);
    if (!row?.callbackUrl || row.callbackStatus === 'delivered') return;
    const log = deps.logger.child({ jobId: row.id, requestId: row.requestId, attempt: attemptNumber(job) });
    const metadata = (row.input as { metadata?: Record<string, unknown> } | null)?.metadata;
    const event = webhookEventOf(row.status);
    const payload: WebhookPayload = { event, job: toJob(row), ...(metadata ? { metadata } : {}) };
    const body = JSON.stringify(payload);
    const timestamp = Math.floor(Date.now() / 1000).toString();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Switchboard-Webhooks/1',
      [webhookHeaders.event]: event,
      [webhookHeaders.delivery]: webhookJobId(row.id),
      [webhookHeaders.timestamp]: timestamp,
      [webhookHeaders.signature]: webhookSignatureHeader(await deps.repository.secrets(row.owner), timestamp, body),
    };
    const lastAttempt = isFinalAttempt(job);
    try {
      const status = await post(row.callbackUrl, headers, body, deps.config);
      if (status < 200 || status >= 300) throw new Error(`callback answered HTTP ${status}`);
    } catch (err) {
      const refused = (err as { code?: string }).code === 'ECALLBACKREFUSED';
      log.warn({ err: (err as Error).message, lastAttempt: lastAttempt || refused }, 'callback delivery failed');
      if (refused || lastAttempt) await deps.repository.mark(row.id, 'failed');
      if (refused) throw new UnrecoverableError((err as Error).message);
      throw err;
    }
    await deps.repository.mark(row.id, 'delivered');
    log.info({ event }, 'callback delivered');
  };
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
