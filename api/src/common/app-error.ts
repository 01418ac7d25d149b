import type { ErrorCode } from '@switchboard/contracts';

/** Domain error with a contract code; the HTTP filter and the gateway turn it into the wire shape. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
