import { Injectable, computed, effect, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import type { Me } from '@switchboard/contracts';
import { ApiService } from './api.service';
import { ClientConfigStore } from './client-config.store';
import { OidcSession, type OidcToken } from './oidc-session.service';

const TOKEN_KEY = 'sb.token';

/**
 * `source` says how it was obtained: local dev-token (renewed by asking again for `username`) or the
 * OIDC IdP (which renews it).
 */
type StoredToken = { token: string; expiresAt: number; source?: 'local' | 'oidc'; username?: string };

function readStored(): StoredToken | null {
  try {
    // Shared by the user's tabs (a link opened in a new tab is signed in); it expires on its own.
    const raw = localStorage.getItem(TOKEN_KEY) ?? sessionStorage.getItem(TOKEN_KEY);
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
  private readonly config = inject(ClientConfigStore).config;
  private renewing = false;

  readonly token = computed(() => this.stored()?.token ?? null);
  readonly signedIn = computed(() => this.token() !== null);
  readonly me = signal<Me | null>(null);
  /** Member of the admin group (AUTH_ADMIN_GROUP, from client-config): the portal shows its admin pages. */
  readonly isAdmin = computed(() => {
    const group = this.config()?.adminGroup;
    return !!group && (this.me()?.groups.includes(group) ?? false);
  });

  private renewal: Promise<boolean> | null = null;
  private renewTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    if (this.stored()?.source === 'oidc') this.keepOidcTokenRenewed();
    // Local tokens are renewed a minute before they expire, like the IdP's (the server refuses
    // events after exp; renewing on that refusal stays as the fallback).
    effect(() => {
      const s = this.stored();
      clearTimeout(this.renewTimer);
      if (s?.source !== 'local') return;
      const inMs = s.expiresAt - Date.now() - 60_000;
      this.renewTimer = setTimeout(() => void this.renew(), Math.min(Math.max(inMs, 1_000), 2 ** 31 - 1));
    });
    // Another tab signed in, renewed or signed out: follow it.
    addEventListener('storage', (e) => {
      if (e.key !== TOKEN_KEY) return;
      const next = readStored();
      if (next?.token === this.stored()?.token) return;
      this.stored.set(next);
      if (!next) {
        this.me.set(null);
        void this.router.navigate(['/sign-in']);
      }
    });
  }

  async signInLocal(username: string): Promise<void> {
    const res = await this.api.devToken(username);
    this.keep({ token: res.access_token, expiresAt: Date.now() + res.expires_in * 1000, source: 'local', username });
    await this.loadMe();
  }

  /**
   * A fresh token when the server refused the current one (expired mid-session): local mode asks
   * for one again, OIDC renews with its refresh token. False when that is not possible.
   */
  renew(): Promise<boolean> {
    this.renewal ??= this.renewNow().finally(() => (this.renewal = null));
    return this.renewal;
  }

  private async renewNow(): Promise<boolean> {
    const s = this.stored();
    if (!s) return false;
    // Another tab may have renewed already.
    const shared = readStored();
    if (shared && shared.token !== s.token && shared.expiresAt > Date.now() + 5_000) {
      this.stored.set(shared);
      return true;
    }
    try {
      if (s.source === 'oidc') {
        const token = await this.oidc.renewNow();
        if (!token) return false;
        this.keepOidc(token);
        return true;
      }
      const username = s.username ?? this.me()?.username;
      if (!username) return false;
      const res = await this.api.devToken(username);
      this.keep({ token: res.access_token, expiresAt: Date.now() + res.expires_in * 1000, source: 'local', username });
      return true;
    } catch {
      return false;
    }
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
    localStorage.setItem(TOKEN_KEY, JSON.stringify(value));
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
    localStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(TOKEN_KEY);
    this.stored.set(null);
    this.me.set(null);
  }
}
