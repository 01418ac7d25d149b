import { DestroyRef, Injectable, inject, signal } from '@angular/core';
import type { OpsSnapshot } from '@switchboard/contracts';
import { opsNamespace, opsServerEvents } from '@switchboard/contracts/constants';
import { io, type Socket } from 'socket.io-client';
import { AuthStore } from '../../core/auth.store';

export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'forbidden';

/**
 * The `/ops` socket while the Operations page is open: the server pushes the whole picture every
 * few seconds; nothing is polled. Non-admins are refused at the handshake (`forbidden`).
 */
@Injectable()
export class OpsFeed {
  private readonly auth = inject(AuthStore);
  private socket: Socket | null = null;
  readonly snapshot = signal<OpsSnapshot | null>(null);
  readonly state = signal<FeedState>('connecting');

  constructor() {
    inject(DestroyRef).onDestroy(() => this.socket?.close());
  }

  connect(): void {
    if (this.socket) return;
    const socket = io(opsNamespace, { auth: (cb) => cb({ token: this.auth.token() }), reconnectionDelayMax: 5_000 });
    this.socket = socket;
    socket.on(opsServerEvents.snapshot, (s: OpsSnapshot) => {
      this.snapshot.set(s);
      this.state.set('live');
    });
    socket.on('disconnect', () => this.state.set('reconnecting'));
    socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      const code = err.data?.code;
      if (code === 'forbidden') {
        this.state.set('forbidden');
        socket.close();
      } else if (code === 'unauthorized') {
        // An expired token: renew once, then the next attempt reads the fresh one.
        void this.auth.renew().then((ok) => (ok ? socket.connect() : socket.close()));
      } else {
        this.state.set(this.snapshot() ? 'reconnecting' : 'connecting');
      }
    });
  }
}
