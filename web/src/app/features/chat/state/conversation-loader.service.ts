import { Injectable, inject } from '@angular/core';
import { ApiService } from '../../../core/api.service';
import { errorKey, toUiError } from '../../../core/errors';
import { AnswerTracker } from './answer-tracker.service';
import { branchView } from './branch-view';
import { ConversationRefresh } from './conversation-refresh.service';
import { OpenConversation } from './open-conversation.store';

/** Which conversation, and which branch of it, the page shows. */
@Injectable()
export class ConversationLoader {
  private readonly api = inject(ApiService);
  private readonly chat = inject(OpenConversation);
  private readonly answers = inject(AnswerTracker);
  private readonly refresh = inject(ConversationRefresh);

  async open(id: string | null): Promise<void> {
    if (id === this.chat.conversationId()) return;
    await this.load(id);
  }

  /** (Re)load a conversation from the server; `null` is a new chat. */
  async load(id: string | null): Promise<void> {
    const chat = this.chat;
    const gen = ++chat.generation;
    chat.conversationId.set(id);
    chat.sendError.set(null);
    chat.loadError.set(null);
    chat.stopWhenAcked = false;
    if (id === null) {
      chat.conversation.set(null);
      chat.summary.set(null);
      chat.messages.set([]);
      chat.selectedModelId.set(null);
      return;
    }
    chat.loading.set(true);
    chat.messages.set([]);
    try {
      const conv = await this.api.getConversation(id);
      if (gen !== chat.generation) return;
      const { messages, summary, activeLeafId, ...meta } = conv;
      chat.conversation.set(meta);
      chat.summary.set(summary ?? null);
      chat.selectedModelId.set(meta.modelId);
      const view = branchView(messages, activeLeafId);
      chat.messages.set(view);
      // An answer still being generated (e.g. after a reload): replay it from the start.
      this.answers.followStreaming(view, id);
    } catch (err) {
      if (gen === chat.generation) chat.loadError.set(errorKey(toUiError(err)));
    } finally {
      if (gen === chat.generation) chat.loading.set(false);
    }
  }

  /** Shows another branch: the server makes the one through `messageId` current. */
  async switchBranch(messageId: string): Promise<void> {
    const id = this.chat.conversationId();
    if (!id || this.chat.streaming()) return;
    try {
      await this.api.updateConversation(id, { activeLeafId: messageId });
      await this.refresh.refreshView(id, true);
    } catch (err) {
      this.chat.sendError.set(errorKey(toUiError(err)));
    }
  }

  /** A turn started in another tab: show its messages and follow its answer like after a reload. */
  async adoptForeignTurn(id: string): Promise<void> {
    const chat = this.chat;
    if (chat.streaming()) return;
    try {
      const conv = await this.api.getConversation(id);
      if (chat.conversationId() !== id || chat.streaming()) return;
      const { messages, summary, activeLeafId, ...meta } = conv;
      chat.conversation.set(meta);
      chat.summary.set(summary ?? null);
      const view = branchView(messages, activeLeafId);
      chat.messages.set(view);
      this.answers.followStreaming(view, id, true);
    } catch {
      // Shown on the next load.
    }
  }
}
