import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

/** An incoming X-Request-Id is kept only when it is a short plain token (it ends up in logs and headers). */
const saneRequestId = /^[A-Za-z0-9._:-]{1,100}$/;

/** The request's id: the caller's X-Request-Id when sane, else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && saneRequestId.test(given) ? given : randomUUID();
}

/**
 * First middleware of every request: fixes the id (logs and error bodies use `req.id`) and sends
 * it as `X-Request-Id` on every response, 2xx and errors, API, docs and portal alike.
 */
export function requestId() {
  return (req: Request & { id?: unknown }, res: Response, next: NextFunction) => {
    assignRequestId(req, res);
    next();
  };
}

export function assignRequestId(req: IncomingMessage & { id?: unknown }, res: ServerResponse): string {
  if (typeof req.id !== 'string' || !req.id) req.id = requestIdOf(req);
  if (!res.headersSent && !res.hasHeader('X-Request-Id')) res.setHeader('X-Request-Id', req.id as string);
  return req.id as string;
}
