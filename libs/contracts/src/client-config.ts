/**
 * `GET /v1/client-config` (public, no token): what a portal needs before sign-in.
 * An addition to the contract; old clients never call it.
 */
export type ClientConfig = {
  authMode: 'local' | 'oidc';
  bedrockMode: 'aws' | 'emulator';
  /** OIDC settings for the portal's sign-in (authorization code + PKCE), present in oidc mode. */
  oidc?: {
    issuer: string;
    clientId: string;
    authorizationEndpoint?: string;
    tokenEndpoint?: string;
    /** Where sign-out ends the IdP session, for IdPs whose discovery document omits it (Cognito's `/logout`). */
    endSessionEndpoint?: string;
    scopes: string[];
  };
  version: string;
  /**
   * The group whose members are admins (AUTH_ADMIN_GROUP): the portal shows its admin pages to them.
   * Only a hint for the UI; the API checks every admin call itself. Absent from older servers.
   */
  adminGroup?: string;
};
