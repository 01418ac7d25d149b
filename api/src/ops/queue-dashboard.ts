import { createHash, randomBytes } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { queueDashboardPath } from '@switchboard/contracts';
import type { AppConfig } from '@switchboard/server-core';
import type { Principal } from '../auth/principal.js';
import type { TokenVerifier } from '../auth/token-verifier.service.js';
import { isAdmin } from './admin-check.js';

/** The dashboard's session cookie: HttpOnly, SameSite=Strict, only sent to the dashboard's path. */
export const queueSessionCookie = 'sb_queues';
export const queueSessionTtlMs = 15 * 60 * 1000;
const sessionKey = (prefix: string, id: string) => `${prefix}:ops:queues-session:${createHash('sha256').update(id).digest('hex')}`;

/**
 * Opens a dashboard session for an admin: a random id, kept in Redis (hashed) for 15 minutes, so
 * every API node accepts it. Returns the Set-Cookie value.
 */
export async function openQueueSession(redis: Redis, config: AppConfig, principal: Principal, secure: boolean): Promise<string> {
  const id = randomBytes(32).toString('base64url');
  await redis.set(sessionKey(config.queuePrefix, id), JSON.stringify({ sub: principal.sub, username: principal.username }), 'PX', queueSessionTtlMs);
  return [
    `${queueSessionCookie}=${id}`,
    `Path=${queueDashboardPath}`,
    `Max-Age=${queueSessionTtlMs / 1000}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * bull-board at `/admin/queues` (inspect, retry, remove jobs of every queue), for admins only.
 * Browsers do not send the portal's bearer token when they navigate, so the portal first calls
 * `POST /v1/admin/queues/session` with it and gets a short-lived HttpOnly, SameSite=Strict cookie
 * scoped to this path. A request is let through with that cookie or with an admin's bearer token;
 * no credential → 401, a valid token of a non-admin → 403. SameSite=Strict keeps other sites from
 * riding the cookie into bull-board's retry/remove calls.
 */
export function queueDashboard(opts: { queues: Queue[]; redis: Redis; config: AppConfig; verifier: TokenVerifier }) {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(queueDashboardPath);
  createBullBoard({
    queues: opts.queues.map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Switchboard queues' } },
  });
  const deny = (res: Response, status: 401 | 403, code: string, message: string) =>
    res.status(status).json({ error: { code, message }, requestId: res.getHeader('x-request-id') });

  const guard = (req: Request, res: Response, next: NextFunction) => {
    const bearer = /^Bearer ([A-Za-z0-9._~+/=-]{1,16384})$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer) {
      opts.verifier.verify(bearer).then(
        ({ principal }) => (isAdmin(principal, opts.config) ? next() : deny(res, 403, 'forbidden', 'The queue dashboard is for admins')),
        () => deny(res, 401, 'unauthorized', 'A valid bearer token is required'),
      );
      return;
    }
    const id = cookieValue(req.headers.cookie, queueSessionCookie);
    if (!id || id.length > 100) return deny(res, 401, 'unauthorized', 'Open the queue dashboard from the portal (Operations)');
    opts.redis.get(sessionKey(opts.config.queuePrefix, id)).then(
      (session) => (session ? next() : deny(res, 401, 'unauthorized', 'The dashboard session has expired; open it again from the portal')),
      (err: unknown) => next(err),
    );
  };
  return { path: queueDashboardPath, handlers: [guard, serverAdapter.getRouter()] };
}
