import { Injectable, computed, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import type { Me } from '@switchboard/contracts';
import { ApiService } from './api.service';
import { OidcSession, type OidcToken } from './oidc-session.service';

const TOKEN_KEY = 'sb.token';

/** `source` says how it was obtained: local dev-token or the OIDC IdP (which renews it). */
type StoredToken = { token: string; expiresAt: number; source?: 'local' | 'oidc' };

function readStored(): StoredToken | null {
  try {
    const raw = sessionStorage.getItem(TOKEN_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as StoredToken;
    return parsed.expiresAt > Date.now() ? parsed : null;
  } catch {
    return null;
  }
}

/** Holds the bearer token (per browser tab, in sessionStorage) and the signed-in principal. */
@Injectable({ providedIn: 'root' })
export class AuthStore {
  private readonly api = inject(ApiService);
  private readonly router = inject(Router);
  private readonly oidc = inject(OidcSession);
  private readonly stored = signal<StoredToken | null>(readStored());
  private renewing = false;

  readonly token = computed(() => this.stored()?.token ?? null);
  readonly signedIn = computed(() => this.token() !== null);
  readonly me = signal<Me | null>(null);

  constructor() {
    if (this.stored()?.source === 'oidc') this.keepOidcTokenRenewed();
  }

  async signInLocal(username: string): Promise<void> {
    const res = await this.api.devToken(username);
    this.keep({ token: res.access_token, expiresAt: Date.now() + res.expires_in * 1000, source: 'local' });
    await this.loadMe();
  }

  /** Leaves for the IdP's sign-in page. */
  signInOidc(returnUrl: string): Promise<void> {
    return this.oidc.signIn(returnUrl);
  }

  /** Back from the IdP: keeps its access token and returns where the user was going. */
  async completeOidcSignIn(): Promise<string | undefined> {
    const { returnUrl, ...token } = await this.oidc.completeSignIn();
    this.keepOidc(token);
    this.keepOidcTokenRenewed();
    await this.loadMe();
    return returnUrl;
  }

  async loadMe(): Promise<void> {
    if (!this.token()) return;
    this.me.set(await this.api.me());
  }

  /** Token still valid by its own clock? (The server has the last word through 401s.) */
  isFresh(): boolean {
    const s = this.stored();
    if (s && s.expiresAt <= Date.now()) this.clear();
    return this.stored() !== null;
  }

  async signOut(): Promise<void> {
    const source = this.stored()?.source;
    this.clear();
    // An IdP with an end-session endpoint takes the browser away here and sends it back to sign-in.
    if (source === 'oidc') await this.oidc.signOut(`${location.origin}/sign-in`).catch(() => undefined);
    await this.router.navigate(['/sign-in']);
  }

  /** Called when the server rejects the token: forget it and go back to sign-in. */
  expire(): void {
    if (!this.stored()) return;
    if (this.stored()?.source === 'oidc') void this.oidc.forget().catch(() => undefined);
    this.clear();
    void this.router.navigate(['/sign-in'], { queryParams: { expired: 1 } });
  }

  private keep(value: StoredToken): void {
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify(value));
    this.stored.set(value);
  }

  private keepOidc(token: OidcToken): void {
    this.keep({ ...token, source: 'oidc' });
  }

  /** Renewed tokens replace the stored one while the user stays signed in (HTTP and socket read it per call). */
  private keepOidcTokenRenewed(): void {
    if (this.renewing) return;
    this.renewing = true;
    void this.oidc
      .keepRenewed((token) => {
        if (this.stored()?.source === 'oidc') this.keepOidc(token);
      })
      .catch(() => (this.renewing = false));
  }

  private clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    this.stored.set(null);
    this.me.set(null);
  }
}
