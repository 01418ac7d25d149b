import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** The part of `http.IncomingMessage` / `http2.Http2ServerRequest` the routes use. */
export interface Req extends AsyncIterable<Buffer | string> {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  httpVersion: string;
}

/** The part of `http.ServerResponse` / `http2.Http2ServerResponse` the routes use. */
export interface Res {
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer | string): boolean;
  end(chunk?: Buffer | string): unknown;
  once(event: 'close' | 'drain', listener: () => void): unknown;
  removeListener(event: 'close' | 'drain', listener: () => void): unknown;
  readonly headersSent: boolean;
}

/** Bedrock's request bodies top out around 20 MB (images and documents in base64). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export class BodyTooLargeError extends Error {}

export async function readBody(req: Req): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError('request body too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: Res, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': payload.length, ...headers });
  res.end(payload);
}

/**
 * An AWS restJson1 error: the SDK reads the error name from `x-amzn-ErrorType` (the part before
 * `:`), the message from the body's `message`, and the status into `$metadata.httpStatusCode`.
 */
export function sendAwsError(res: Res, status: number, errorType: string, message: string, requestId: string): void {
  sendJson(res, status, { message }, {
    'x-amzn-ErrorType': `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    'x-amzn-RequestId': requestId,
  });
}

/** An error the routes turn into an AWS error response before the response starts. */
export class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

export const validation = (message: string): AwsError => new AwsError(400, 'ValidationException', message);
