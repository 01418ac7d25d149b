import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';

const apiPrefixes = ['/v1/', '/socket.io/', '/docs', '/metrics', '/healthz', '/readyz', '/.well-known/', '/admin/queues'];

/** Where the built portal is: WEB_DIST_DIR, else the workspace's web/dist/browser. */
export function portalDir(configured: string | undefined): string {
  return configured ? resolve(configured) : join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web', 'dist', 'browser');
}

/** Serves the Angular portal as static files, with index.html for its client-side routes. */
export function servePortal(app: NestExpressApplication, dir: string): boolean {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) return false;
  app.useStaticAssets(dir, { index: false, maxAge: '1h', immutable: false });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' || apiPrefixes.some((p) => req.path.startsWith(p)) || !req.accepts('html')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return true;
}
