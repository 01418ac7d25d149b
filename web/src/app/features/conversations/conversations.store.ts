import { Injectable, inject, signal } from '@angular/core';
import type { Conversation, ConversationListItem } from '@switchboard/contracts';
import { ApiService } from '../../core/api.service';
import { errorKey, toUiError } from '../../core/errors';

/** The user's conversation list (newest first), with paging and search. */
@Injectable({ providedIn: 'root' })
export class ConversationsStore {
  private readonly api = inject(ApiService);

  readonly items = signal<ConversationListItem[]>([]);
  readonly nextCursor = signal<string | null>(null);
  readonly loading = signal(false);
  readonly error = signal<string | null>(null);
  readonly query = signal('');
  /** Conversations with an answer queued or streaming (this tab's or another's). */
  readonly live = signal<ReadonlySet<string>>(new Set());
  private generation = 0;

  async load(query = this.query()): Promise<void> {
    const gen = ++this.generation;
    this.query.set(query);
    this.loading.set(true);
    try {
      const page = await this.api.listConversations({ q: query || undefined });
      if (gen !== this.generation) return;
      this.items.set(page.items);
      this.nextCursor.set(page.nextCursor);
      this.error.set(null);
    } catch (err) {
      if (gen === this.generation) this.error.set(errorKey(toUiError(err)));
    } finally {
      if (gen === this.generation) this.loading.set(false);
    }
  }

  async loadMore(): Promise<void> {
    const cursor = this.nextCursor();
    if (!cursor || this.loading()) return;
    const gen = this.generation;
    this.loading.set(true);
    try {
      const page = await this.api.listConversations({ cursor, q: this.query() || undefined });
      if (gen !== this.generation) return;
      const known = new Set(this.items().map((c) => c.id));
      this.items.update((list) => [...list, ...page.items.filter((c) => !known.has(c.id))]);
      this.nextCursor.set(page.nextCursor);
    } catch (err) {
      this.error.set(errorKey(toUiError(err)));
    } finally {
      if (gen === this.generation) this.loading.set(false);
    }
  }

  async rename(id: string, title: string): Promise<Conversation> {
    const updated = await this.api.updateConversation(id, { title });
    this.upsert(updated, false);
    return updated;
  }

  async remove(id: string): Promise<void> {
    await this.api.deleteConversation(id);
    this.items.update((list) => list.filter((c) => c.id !== id));
  }

  /** A title changed elsewhere (another tab, or the model-written title). */
  patchTitle(id: string, title: string): void {
    this.items.update((list) => list.map((c) => (c.id === id ? { ...c, title } : c)));
  }

  markLive(id: string, live: boolean): void {
    if (this.live().has(id) === live) return;
    this.live.update((set) => {
      const next = new Set(set);
      if (live) next.add(id);
      else next.delete(id);
      return next;
    });
  }

  /** Deleted elsewhere. */
  drop(id: string): void {
    this.items.update((list) => list.filter((c) => c.id !== id));
  }

  /** Replace (or add on top) one conversation, e.g. after a send touched it. */
  upsert(conversation: Conversation, moveToTop = true): void {
    this.items.update((list) => {
      const rest = list.filter((c) => c.id !== conversation.id);
      if (moveToTop) return [conversation, ...rest];
      const i = list.findIndex((c) => c.id === conversation.id);
      if (i < 0) return [conversation, ...rest];
      const copy = [...list];
      copy[i] = conversation;
      return copy;
    });
  }

  reset(): void {
    this.generation++;
    this.items.set([]);
    this.nextCursor.set(null);
    this.query.set('');
  }
}
