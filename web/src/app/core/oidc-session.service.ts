import { Injectable, inject } from '@angular/core';
import type { ClientConfig } from '@switchboard/contracts';
import type { User, UserManager } from 'oidc-client-ts';
import { ClientConfigStore } from './client-config.store';

/** What the API is called with: the IdP's access token and when it expires. */
export type OidcToken = { token: string; expiresAt: number };

/** The route the IdP sends the browser back to after sign-in (register `<portal>/auth/callback` with the IdP's client). */
export const CALLBACK_ROUTE = 'auth/callback';

const tokenOf = (user: User): OidcToken => ({
  token: user.access_token,
  expiresAt: (user.expires_at ?? Math.floor(Date.now() / 1000) + 300) * 1000,
});

/**
 * Single sign-on against the configured OIDC issuer (Cognito's hosted UI or any IdP): authorization
 * code with PKCE through oidc-client-ts, loaded only in oidc mode. Refresh tokens renew the access
 * token before it expires; without one the session simply ends at expiry.
 */
@Injectable({ providedIn: 'root' })
export class OidcSession {
  private readonly configs = inject(ClientConfigStore);
  private manager: Promise<UserManager> | null = null;

  /** Redirects the browser to the IdP; `returnUrl` comes back in the state. */
  async signIn(returnUrl: string): Promise<void> {
    const manager = await this.userManager();
    await manager.signinRedirect({ state: { returnUrl } });
  }

  /** On the callback page: trade the code for tokens. Throws what the IdP or the exchange reported. */
  async completeSignIn(): Promise<OidcToken & { returnUrl: string | undefined }> {
    const manager = await this.userManager();
    const user = await manager.signinRedirectCallback();
    const state = user.state as { returnUrl?: unknown } | undefined;
    return { ...tokenOf(user), returnUrl: typeof state?.returnUrl === 'string' ? state.returnUrl : undefined };
  }

  /** Calls `onToken` with every renewed access token (after a reload too: the user is in sessionStorage). */
  async keepRenewed(onToken: (token: OidcToken) => void): Promise<void> {
    const manager = await this.userManager();
    manager.events.addUserLoaded((user) => onToken(tokenOf(user)));
    // Arms the renewal timer for a user stored before this page load.
    await manager.getUser();
  }

  /** Renews now with the refresh token (the server refused the current access token); null when it cannot. */
  async renewNow(): Promise<OidcToken | null> {
    const manager = await this.userManager();
    const user = await manager.signinSilent().catch(() => null);
    return user ? tokenOf(user) : null;
  }

  /** Forgets the tokens here (and stops renewing them); the IdP session stays. */
  async forget(): Promise<void> {
    await (await this.userManager()).removeUser();
  }

  /** Forgets the tokens; ends the IdP session too when the IdP has an end-session endpoint. */
  async signOut(returnTo: string): Promise<void> {
    const manager = await this.userManager();
    const user = await manager.getUser();
    await manager.removeUser();
    const metadata = await manager.metadataService.getMetadata().catch(() => null);
    if (!metadata?.end_session_endpoint) return;
    await manager.signoutRedirect({
      id_token_hint: user?.id_token,
      post_logout_redirect_uri: returnTo,
      // Cognito's /logout takes logout_uri and client_id instead of the standard parameters.
      extraQueryParams: { logout_uri: returnTo, client_id: manager.settings.client_id },
    });
  }

  private userManager(): Promise<UserManager> {
    this.manager ??= Promise.all([import('oidc-client-ts'), this.configs.load()]).then(([lib, config]) => {
      const oidc = oidcSettings(config);
      return new lib.UserManager({
        authority: oidc.issuer,
        client_id: oidc.clientId,
        redirect_uri: `${location.origin}/${CALLBACK_ROUTE}`,
        post_logout_redirect_uri: `${location.origin}/sign-in`,
        response_type: 'code',
        scope: oidc.scopes.join(' '),
        metadataSeed: {
          ...(oidc.authorizationEndpoint ? { authorization_endpoint: oidc.authorizationEndpoint } : {}),
          ...(oidc.tokenEndpoint ? { token_endpoint: oidc.tokenEndpoint } : {}),
          ...(oidc.endSessionEndpoint ? { end_session_endpoint: oidc.endSessionEndpoint } : {}),
        },
        userStore: new lib.WebStorageStateStore({ store: sessionStorage }),
        // Renews with the refresh token a minute before expiry (no silent-iframe page is served).
        automaticSilentRenew: true,
      });
    });
    this.manager.catch(() => (this.manager = null));
    return this.manager;
  }
}

function oidcSettings(config: ClientConfig | null): NonNullable<ClientConfig['oidc']> {
  if (!config) throw new Error('client config unavailable');
  if (config.authMode !== 'oidc' || !config.oidc) throw new Error('single sign-on is not configured');
  return config.oidc;
}
