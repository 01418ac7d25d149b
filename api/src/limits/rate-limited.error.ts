import { AppError } from '../common/app-error.js';

/** 429 `rate_limited`: REST sends `Retry-After`, socket acks carry `error.retryAfterMs`. */
export class RateLimitedError extends AppError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super('rate_limited', message);
  }
}
