import type { Principal } from '../auth/principal.js';
import { hasScope } from '../auth/principal.js';
import { AppError } from '../common/app-error.js';

/** Scopes a signed-in person's token carries (Cognito access tokens, OIDC sign-in); none of them is a grant. */
const personScopes = new Set(['openid', 'email', 'profile', 'phone', 'offline_access', 'aws.cognito.signin.user.admin']);

/**
 * Service clients (client-credentials tokens) need `jobs:write` to submit and cancel and
 * `jobs:read` to read, bare or with AUTH_SCOPE_PREFIX (`<prefix>jobs:…`). People signed in to the
 * portal (tokens with no resource-server scopes) may use the jobs API as well.
 */
export function requireJobScope(principal: Principal, scope: 'jobs:read' | 'jobs:write', scopePrefix?: string): void {
  if (hasScope(principal, scope, scopePrefix)) return;
  if (principal.kind === 'person' && principal.scopes.every((s) => personScopes.has(s))) return;
  throw new AppError('forbidden', `This token lacks the ${scope} scope`);
}
