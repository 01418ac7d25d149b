import { Injectable, computed, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import type { Me } from '@switchboard/contracts';
import { ApiService } from './api.service';

const TOKEN_KEY = 'sb.token';

type StoredToken = { token: string; expiresAt: number };

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
  private readonly stored = signal<StoredToken | null>(readStored());

  readonly token = computed(() => this.stored()?.token ?? null);
  readonly signedIn = computed(() => this.token() !== null);
  readonly me = signal<Me | null>(null);

  async signInLocal(username: string): Promise<void> {
    const res = await this.api.devToken(username);
    const value: StoredToken = { token: res.access_token, expiresAt: Date.now() + res.expires_in * 1000 };
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify(value));
    this.stored.set(value);
    await this.loadMe();
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

  signOut(): void {
    this.clear();
    void this.router.navigate(['/sign-in']);
  }

  /** Called when the server rejects the token: forget it and go back to sign-in. */
  expire(): void {
    if (!this.stored()) return;
    this.clear();
    void this.router.navigate(['/sign-in'], { queryParams: { expired: 1 } });
  }

  private clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    this.stored.set(null);
    this.me.set(null);
  }
}
