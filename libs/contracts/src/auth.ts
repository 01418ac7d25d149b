import { z } from 'zod';
import { safeText } from './safe-text.js';

/** Local mode only: body of `POST /v1/auth/dev-token`. */
export const devTokenRequestSchema = z.object({
  username: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .regex(/^[\p{L}\p{N}._@-]+$/u, 'letters, digits, dot, underscore, @ and hyphen only'),
  /** Accepted for old clients and ignored: local admins are the names in AUTH_LOCAL_ADMINS. */
  groups: z.array(safeText().min(1).max(64)).max(20).optional(),
  scopes: z.array(safeText().min(1).max(128)).max(20).optional(),
});
export type DevTokenRequest = z.infer<typeof devTokenRequestSchema>;
export type DevTokenResponse = { access_token: string; token_type: 'Bearer'; expires_in: number };

/** `GET /v1/me`. */
export type Me = { sub: string; username: string; groups: string[]; scopes: string[] };
