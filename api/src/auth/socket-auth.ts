import passport from 'passport';
import type { Socket } from 'socket.io';
import { AppError } from '../common/app-error.js';
import type { Principal } from './principal.js';

/**
 * Verifies a Socket.IO handshake token with the same passport-jwt strategy as REST, so sockets
 * and HTTP share one verification path. Runs on every (re)connection.
 */
export function verifySocketToken(socket: Socket): Promise<Principal> {
  const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
  if (typeof token !== 'string' || token.length === 0) {
    return Promise.reject(new AppError('unauthorized', 'auth.token is required'));
  }
  const req = { headers: { authorization: `Bearer ${token}` } };
  return new Promise((resolve, reject) => {
    passport.authenticate('jwt', { session: false }, (err: unknown, user: Principal | false) => {
      if (err || !user) reject(new AppError('unauthorized', 'Invalid or expired token'));
      else resolve(user);
    })(req, {}, (err: unknown) => reject(err ?? new AppError('unauthorized', 'Invalid or expired token')));
  });
}
