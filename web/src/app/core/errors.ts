import { HttpErrorResponse } from '@angular/common/http';

/** A user-presentable error: an i18n key (or a server message) plus the contract error code. */
export type UiError = { code: string; message: string };

/** Reads `{ error: { code, message } }` from a REST failure; falls back to a network/unknown error. */
export function toUiError(err: unknown): UiError {
  if (err instanceof HttpErrorResponse) {
    const body = err.error as { error?: { code?: unknown; message?: unknown } } | null;
    if (body && typeof body === 'object' && body.error && typeof body.error.message === 'string') {
      return { code: String(body.error.code ?? 'internal'), message: body.error.message };
    }
    if (err.status === 0) return { code: 'unavailable', message: 'errors.network' };
    return { code: `http_${err.status}`, message: 'errors.generic' };
  }
  return { code: 'internal', message: 'errors.generic' };
}

const knownErrorCodes = new Set([
  'bad_request', 'validation_failed', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'payload_too_large',
  'unsupported_media_type', 'rate_limited', 'internal', 'unavailable', 'throttled', 'model_error', 'model_not_found',
  'content_too_large', 'budget_exceeded', 'model_not_allowed', 'document_too_large', 'invalid_document', 'timeout', 'poison',
]);

/**
 * One human message (an i18n key, en and zh) per contract error code: the server's text (often a
 * validation report) is never shown raw. Messages that already are keys stay.
 */
export function errorKey(error: { code: string; message?: string }): string {
  if (error.message?.startsWith('errors.')) return error.message;
  return knownErrorCodes.has(error.code) ? `errors.code.${error.code}` : 'errors.generic';
}
