import { Injectable, inject, signal } from '@angular/core';
import type { ClientConfig } from '@switchboard/contracts';
import { ApiService } from './api.service';

/** `GET /v1/client-config`, fetched once at start (public, no token). */
@Injectable({ providedIn: 'root' })
export class ClientConfigStore {
  private readonly api = inject(ApiService);
  readonly config = signal<ClientConfig | null>(null);
  readonly failed = signal(false);
  private loading: Promise<ClientConfig | null> | null = null;

  load(): Promise<ClientConfig | null> {
    this.loading ??= this.api.clientConfig().then(
      (c) => {
        this.config.set(c);
        this.failed.set(false);
        return c;
      },
      () => {
        this.failed.set(true);
        this.loading = null;
        return null;
      },
    );
    return this.loading;
  }
}
