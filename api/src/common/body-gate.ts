import type { NextFunction, Request, Response } from 'express';
import type { ErrorBody } from '@switchboard/contracts';
import type { TokenVerifier } from '../auth/token-verifier.service.js';
import { assignRequestId } from './request-id.js';

/** Routes that take a body without a token. */
const publicBodyPaths = new Set(['/v1/auth/dev-token']);
const bodyMethods = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Runs before any body is read: a request with a body to `/v1` is answered 401 when its bearer
 * token does not verify, and 413 when its Content-Length is over JOBS_MAX_BODY_BYTES (the one
 * limit; bodies without a length are cut at it by the parser). The connection is closed after
 * these answers, so the body is never read: an unauthenticated client cannot make the API
 * receive 30 MB to learn it is not signed in. The route's own guard still decides everything else.
 */
export function bodyGate(limitBytes: number, verifier: TokenVerifier) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!bodyMethods.has(req.method) || !req.path.startsWith('/v1/') || publicBodyPaths.has(req.path)) return next();
    const token = /^Bearer ([A-Za-z0-9._~+/=-]{1,16384})$/i.exec(req.headers.authorization ?? '')?.[1];
    const check = token ? verifier.verify(token).then(() => true, () => false) : Promise.resolve(false);
    check
      .then((verified) => {
        if (!verified) return refuse(req, res, 401, { code: 'unauthorized', message: 'A valid bearer token is required' });
        const length = Number(req.headers['content-length'] ?? 0);
        if (length > limitBytes) {
          return refuse(req, res, 413, {
            code: 'payload_too_large',
            message: `Request body is ${length} bytes; the limit is ${limitBytes} bytes (JOBS_MAX_BODY_BYTES)`,
            details: { limit: limitBytes },
          });
        }
        next();
      })
      .catch(next);
  };
}

function refuse(req: Request, res: Response, status: number, error: ErrorBody['error']) {
  res.setHeader('Connection', 'close');
  const body: ErrorBody = { error, requestId: assignRequestId(req, res) };
  res.status(status).json(body);
  // Stop reading what the client still sends once the answer is out.
  res.on('finish', () => req.socket.destroySoon?.());
}
