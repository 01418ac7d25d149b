import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import type { AppConfig } from '@switchboard/server-core';

/** A year, the HSTS preload lists' minimum. */
const hstsMaxAgeSeconds = 31_536_000;

/**
 * Browser defences on every response (API, portal, Swagger UI): a CSP without inline script
 * (`default-src 'self'`, images only from here, data: and blob:, no framing), nosniff, no referrer,
 * and HSTS when the request came over https (directly or, behind the ALB, X-Forwarded-Proto from a
 * trusted proxy; see TRUST_PROXY).
 */
export function securityHeaders(config: AppConfig, portalDir: string | undefined): RequestHandler[] {
  const connectSrc = ["'self'", ...oidcOrigins(config)];
  const csp = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // The portal's index.html may carry small inline scripts (the theme before first paint):
        // exactly those are allowed by hash, nothing injected.
        scriptSrc: ["'self'", ...inlineScriptHashes(portalDir)],
        scriptSrcAttr: ["'none'"],
        // Angular and Swagger UI add <style> elements at run time; styles cannot run code.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc,
        workerSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  const hsts = (req: Request, res: Response, next: NextFunction) => {
    if (req.secure) res.setHeader('Strict-Transport-Security', `max-age=${hstsMaxAgeSeconds}; includeSubDomains`);
    next();
  };
  return [csp, hsts];
}

/** Where the portal talks to the IdP: discovery and JWKS at the issuer, the token endpoint (Cognito: the hosted UI's domain). */
function oidcOrigins(config: AppConfig): string[] {
  if (config.auth.mode !== 'oidc') return [];
  const urls = [config.auth.issuer, config.auth.endSessionUrl, config.auth.jwksUrl];
  return [...new Set(urls.flatMap((u) => (u ? [new URL(u).origin] : [])))];
}

/** CSP hashes of the inline scripts of the built portal's index.html. */
export function inlineScriptHashes(portalDir: string | undefined): string[] {
  const index = portalDir && join(portalDir, 'index.html');
  if (!index || !existsSync(index)) return [];
  const html = readFileSync(index, 'utf8');
  return [...html.matchAll(/<script(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`,
  );
}
