import type { Socket } from 'socket.io';
import { AppError } from '../common/app-error.js';
import type { TokenVerifier } from './token-verifier.service.js';
import type { VerifiedToken } from './verified-tokens.js';

/**
 * Verifies a Socket.IO handshake token (`auth: { token }`) with the same verifier as REST. Runs on
 * every (re)connection; a renewed token means a new connection.
 */
export function verifySocketToken(socket: Socket, verifier: TokenVerifier): Promise<VerifiedToken> {
  const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
  if (typeof token !== 'string' || token.length === 0 || token.length > 16_384) {
    return Promise.reject(new AppError('unauthorized', 'auth.token is required'));
  }
  return verifier.verify(token);
}
