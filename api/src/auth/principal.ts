import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';

/** Who is calling, from a verified token. */
export type Principal = { sub: string; username: string; groups: string[]; scopes: string[] };

export const IS_PUBLIC = 'switchboard:isPublic';
/** Marks a route that needs no token (health, JWKS, dev-token, client config). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest<{ user: Principal }>().user,
);

/** Maps verified JWT claims (Cognito ID/access tokens or any OIDC IdP) to a principal. */
export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const sub = String(claims.sub);
  const username =
    str(claims.username) ?? str(claims['cognito:username']) ?? str(claims.preferred_username) ?? str(claims.email) ?? sub;
  const groups = strArray(claims['cognito:groups']) ?? strArray(claims.groups) ?? [];
  const scope = claims.scope ?? claims.scp;
  const scopes = Array.isArray(scope) ? strArray(scope) ?? [] : typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
  return { sub, username, groups, scopes };
}

/** True when the principal holds the scope, bare or as Cognito's `<resource-server>/<scope>`. */
export function hasScope(principal: Principal, scope: string): boolean {
  return principal.scopes.some((s) => s === scope || s.endsWith(`/${scope}`));
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
const strArray = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
