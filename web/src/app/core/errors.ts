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
