import { Injectable, computed, inject, signal } from '@angular/core';
import type { Conversation, ConversationSummary, PublicModel } from '@switchboard/contracts';
import { conversationTotals } from './conversation-totals';
import { ModelsStore } from './models.store';
import { type UiMessage, isLiveAnswer } from './ui-message';

/** The conversation the chat page shows: its messages, settings and errors. One per chat page. */
@Injectable()
export class OpenConversation {
  private readonly models = inject(ModelsStore);

  readonly conversationId = signal<string | null>(null);
  readonly conversation = signal<Conversation | null>(null);
  readonly messages = signal<UiMessage[]>([]);
  /** The compressed older history, when the server summarized it. */
  readonly summary = signal<ConversationSummary | null>(null);
  readonly loading = signal(false);
  readonly loadError = signal<string | null>(null);
  readonly sendError = signal<string | null>(null);
  readonly selectedModelId = signal<string | null>(null);

  readonly selectedModel = computed<PublicModel | undefined>(
    () => this.models.models().find((m) => m.id === this.selectedModelId()) ?? this.models.defaultModel(),
  );
  readonly streamingMessage = computed(() => this.messages().find(isLiveAnswer));
  readonly streaming = computed(() => this.streamingMessage() !== undefined);
  readonly totals = computed(() => conversationTotals(this.messages(), this.conversation()?.usage, (id) => this.models.modelOf(id)));

  /** Bumped on every open: a late answer about the conversation shown before is dropped. */
  generation = 0;
  /** Stop was pressed before the server acknowledged the send: stop once the job is known. */
  stopWhenAcked = false;

  patch(key: string, changes: Partial<UiMessage>): void {
    this.messages.update((list) => list.map((m) => (m.key === key ? { ...m, ...changes } : m)));
  }

  /** Like patch, but only while the answer is still being written (late status events lose). */
  patchIfLive(key: string, changes: Partial<UiMessage>): void {
    this.messages.update((list) =>
      list.map((m) => (m.key === key && (m.status === 'pending' || m.status === 'streaming') ? { ...m, ...changes } : m)),
    );
  }
}
