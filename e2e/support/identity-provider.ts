import { generateKeyPairSync } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import Provider from 'oidc-provider';

export type IdentityProvider = { issuer: string; stop: () => Promise<void> };

export type IdentityProviderOptions = {
  port: number;
  /** The portal's public client. */
  clientId: string;
  portalUrl: string;
  /** Access token lifetime; the portal renews a minute before expiry, so 70 s renews after ≈ 10 s. */
  accessTokenTtlSeconds?: number;
};

/** The API the access tokens are for (their `aud`); the API accepts them by their `client_id`. */
const API_RESOURCE = 'https://api.switchboard.test';

/**
 * A real OpenID Provider (node-oidc-provider) standing in for Cognito's hosted UI at the edge of
 * the system: authorization code + PKCE for a public client, JWT access tokens, refresh tokens,
 * RP-initiated logout. Its built-in development pages sign in any login with any password.
 */
export async function startIdentityProvider(options: IdentityProviderOptions): Promise<IdentityProvider> {
  const issuer = `http://127.0.0.1:${options.port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [`${options.portalUrl}/auth/callback`],
        post_logout_redirect_uris: [`${options.portalUrl}/sign-in`],
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: ['switchboard-e2e-idp'] },
    // Where Cognito publishes its keys; the API's default JWKS location for an issuer.
    routes: { jwks: '/.well-known/jwks.json' },
    claims: { openid: ['sub'], email: ['email'], profile: ['preferred_username'] },
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: `${id}@example.test`, preferred_username: id }),
    }),
    // Like Cognito's access tokens: the user name in the token itself.
    extraTokenClaims: async (_ctx, token) => ('accountId' in token && token.accountId ? { username: token.accountId } : undefined),
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: options.accessTokenTtlSeconds ?? 3600,
      IdToken: 3600,
      RefreshToken: 86_400,
      Session: 86_400,
      Grant: 86_400,
      Interaction: 600,
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'openid',
          audience: API_RESOURCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: options.accessTokenTtlSeconds ?? 3600,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { issuer, stop };
}
