import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { type ErrorBody, type ErrorCode, httpStatusByCode } from '@switchboard/contracts';
import { AppError } from './app-error.js';
import { assignRequestId } from './request-id.js';
import { RateLimitedError } from '../limits/rate-limited.error.js';
import { isDependencyOutage, outageMessage, outageRetryAfterSeconds } from './dependency-outage.js';

const codeByStatus: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/** The one place where errors become HTTP responses: `{ error: { code, message, details? }, requestId }`. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: string }>();
    const res = ctx.getResponse<Response>();
    const { status, body } = toErrorResponse(exception);
    if (status >= 500) this.logger.error({ err: exception, path: req.path }, 'request failed');
    if (status === 503) res.setHeader('Retry-After', String(outageRetryAfterSeconds));
    if (exception instanceof RateLimitedError) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(exception.retryAfterMs / 1000))));
    // The body's requestId and the X-Request-Id header are the same id.
    const payload: ErrorBody = { error: body, requestId: assignRequestId(req, res) };
    res.status(status).json(payload);
  }
}

function toErrorResponse(exception: unknown): { status: number; body: ErrorBody['error'] } {
  if (exception instanceof AppError) {
    const body: ErrorBody['error'] = { code: exception.code, message: exception.message };
    if (exception.details !== undefined) body.details = exception.details;
    if (exception instanceof RateLimitedError) body.retryAfterMs = exception.retryAfterMs;
    return { status: httpStatusByCode[exception.code], body };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = codeByStatus[status] ?? (status >= 500 ? 'internal' : 'bad_request');
    return { status, body: { code, message: messageOf(exception) } };
  }
  // body-parser errors carry a status and a type.
  const e = exception as { status?: number; type?: string; message?: string; limit?: number };
  if (e?.type === 'entity.too.large') {
    const limit = typeof e.limit === 'number' ? e.limit : undefined;
    return {
      status: 413,
      body: { code: 'payload_too_large', message: `Request body is larger than the allowed size${limit ? ` of ${limit} bytes (JOBS_MAX_BODY_BYTES)` : ''}`, ...(limit ? { details: { limit } } : {}) },
    };
  }
  if (e?.type === 'entity.parse.failed') {
    return { status: 400, body: { code: 'bad_request', message: 'Request body is not valid JSON' } };
  }
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return { status: 415, body: { code: 'unsupported_media_type', message: e.message ?? 'Unsupported encoding' } };
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return { status: e.status, body: { code: codeByStatus[e.status] ?? 'bad_request', message: e.message ?? 'Bad request' } };
  }
  if (isDependencyOutage(exception)) return { status: 503, body: { code: 'unavailable', message: outageMessage } };
  return { status: 500, body: { code: 'internal', message: 'Internal server error' } };
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}
