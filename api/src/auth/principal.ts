import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';

/**
 * Who is calling, from a verified token. `kind` is `client` for a token with no user behind it
 * (OAuth client credentials: a batch system), `person` otherwise.
 */
export type Principal = { sub: string; username: string; groups: string[]; scopes: string[]; kind: 'person' | 'client' };

export const IS_PUBLIC = 'switchboard:isPublic';
/** Marks a route that needs no token (health, JWKS, dev-token, client config). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const PEOPLE_ONLY = 'switchboard:peopleOnly';
/** Marks routes that act for a person (chat, conversations, prompts): client-credentials tokens get 403. */
export const PeopleOnly = () => SetMetadata(PEOPLE_ONLY, true);

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest<{ user: Principal }>().user,
);

/** Maps verified JWT claims (Cognito ID/access tokens or any OIDC IdP) to a principal. */
export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const sub = String(claims.sub);
  const named = str(claims.username) ?? str(claims['cognito:username']) ?? str(claims.preferred_username) ?? str(claims.email);
  const groups = strArray(claims['cognito:groups']) ?? strArray(claims.groups) ?? [];
  const scope = claims.scope ?? claims.scp;
  const scopes = Array.isArray(scope) ? strArray(scope) ?? [] : typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
  // Client credentials: the subject is the client itself (generic OIDC), or a Cognito access token
  // that names no user (user access tokens always carry `username`).
  const client = (typeof claims.client_id === 'string' && claims.client_id === sub) || (claims.token_use === 'access' && !named);
  return { sub, username: named ?? sub, groups, scopes, kind: client ? 'client' : 'person' };
}

/**
 * True when the principal holds the scope exactly: bare (`jobs:write`) or with the configured
 * resource-server prefix (`AUTH_SCOPE_PREFIX`, e.g. `https://api.example/jobs:write`). Nothing else:
 * `evil/jobs:write` is not `jobs:write`.
 */
export function hasScope(principal: Principal, scope: string, prefix?: string): boolean {
  return principal.scopes.some((s) => s === scope || (prefix !== undefined && s === `${prefix}${scope}`));
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
const strArray = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
