/** Socket-level failures: the service is down or unreachable. */
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** PostgreSQL SQLSTATEs for "cannot serve you now": connection exceptions (08…), shutdown, too many connections. */
const pgUnavailable = (code: string) => code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code);
/** node-postgres and ioredis report a lost or unobtainable connection by message only. */
const lostConnection = /^(Connection terminated|timeout exceeded when trying to connect|Connection is closed)/;

/**
 * True when an error means Postgres or Redis cannot be reached right now, not that the request
 * was wrong: such requests get 503 `unavailable` (retry later), never a 500. Follows `cause` (drizzle
 * wraps driver errors) and AggregateError (a connect that tried several addresses).
 */
export function isDependencyOutage(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const { code, message, name, cause, errors } = err as { code?: unknown; message?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && (networkCodes.has(code) || pgUnavailable(code))) return true;
  if (name === 'MaxRetriesPerRequestError' || name === 'RedisUnavailableError') return true;
  if (typeof message === 'string' && lostConnection.test(message)) return true;
  if (Array.isArray(errors) && errors.some((e) => isDependencyOutage(e, depth + 1))) return true;
  return isDependencyOutage(cause, depth + 1);
}

export const outageMessage = 'A backing service is unavailable; please retry shortly';
/** Seconds a client should wait before retrying after a 503. */
export const outageRetryAfterSeconds = 5;
