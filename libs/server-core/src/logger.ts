import { pino, type Logger, type TransportSingleOptions } from 'pino';

export type { Logger };

/**
 * Where logs go for LOG_FORMAT: `json` writes one object a line to stdout (what CloudWatch and log
 * shippers read); `pretty` sends them through pino-pretty in a worker thread (a terminal: colored,
 * one readable line per event, the correlation ids kept). Shared by the worker's logger and the
 * API's pino-http.
 */
export function logTransport(format: 'json' | 'pretty'): TransportSingleOptions | undefined {
  if (format !== 'pretty') return undefined;
  return { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true } };
}

/** Structured logs (JSON, or pretty on a terminal); never log tokens, secrets or message bodies. */
export function createLogger(name: string, level: string, format: 'json' | 'pretty' = 'json'): Logger {
  const transport = logTransport(format);
  return pino({
    name,
    level,
    serializers: { err: safeErrorSerializer },
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'token', '*.token'], remove: true },
    ...(transport ? { transport } : {}),
  });
}

type LoggedError = { type: string; message: string; code?: string; stack?: string; cause?: LoggedError };

/**
 * An error as it may be logged: type, code, a message without request data, stack frames only.
 * Driver errors carry the statement's parameters (drizzle's "Failed query: …\nparams: …", pg's
 * `detail`, `where`, `parameters`): those hold users' text and documents, so they never reach a log.
 */
export function safeErrorSerializer(err: unknown, depth = 0): LoggedError | unknown {
  if (!err || typeof err !== 'object') return err;
  const e = err as { name?: unknown; message?: unknown; code?: unknown; stack?: unknown; cause?: unknown; constructor?: { name?: string } };
  const type = typeof e.name === 'string' ? e.name : (e.constructor?.name ?? 'Error');
  const out: LoggedError = { type, message: safeMessage(type, typeof e.message === 'string' ? e.message : '') };
  if (typeof e.code === 'string' || typeof e.code === 'number') out.code = String(e.code);
  if (typeof e.stack === 'string') {
    const frames = e.stack.split('\n').filter((line) => /^\s+at /.test(line));
    if (frames.length) out.stack = frames.slice(0, 20).join('\n');
  }
  if (e.cause && depth < 3) out.cause = safeErrorSerializer(e.cause, depth + 1) as LoggedError;
  return out;
}

/**
 * Takes request data out of an error in place (its message, and the stack's first line that
 * repeats it; see safeMessage), keeping its class. For errors leaving a job processor: BullMQ keeps
 * the message and stack as the job's failed reason in Redis, and the worker logs the message.
 */
export function scrubRequestData<E>(err: E, depth = 0): E {
  if (!(err instanceof Error)) return err;
  const safe = safeMessage(err.name, err.message);
  if (safe !== err.message) {
    if (err.stack) err.stack = err.stack.replace(err.message, safe);
    err.message = safe;
  }
  // drizzle's copy of the values; pg's fields that quote a row or the statement's input
  for (const field of ['params', 'detail', 'where', 'internalQuery']) delete (err as unknown as Record<string, unknown>)[field];
  if (depth < 3) scrubRequestData(err.cause, depth + 1);
  return err;
}

function safeMessage(type: string, message: string): string {
  // drizzle: "Failed query: <sql>\nparams: <values>" — the SQL is ours, the values are not.
  if (message.startsWith('Failed query:')) return message.split('\nparams:')[0]!.slice(0, 2000);
  // pg errors quote offending input in their message for a few kinds (e.g. invalid input syntax).
  if (type === 'error' || type === 'DatabaseError') return message.replace(/"[^"]*"/g, '"…"').slice(0, 500);
  return message.slice(0, 2000);
}
