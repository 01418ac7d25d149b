import { Injectable, inject } from '@angular/core';
import { ApiService } from '../../../core/api.service';
import { ConversationsStore } from '../../conversations/conversations.store';
import { branchView } from './branch-view';
import { OpenConversation } from './open-conversation.store';

/** Brings the open conversation up to date with the server without clearing the view. */
@Injectable()
export class ConversationRefresh {
  private readonly api = inject(ApiService);
  private readonly chat = inject(OpenConversation);
  private readonly conversations = inject(ConversationsStore);

  /**
   * Re-reads the conversation: branch counters and the summary change after an answer; the
   * messages are replaced only when the branch shown differs (or `force`).
   */
  async refreshView(id: string, force = false): Promise<void> {
    const conv = await this.api.getConversation(id);
    if (this.chat.conversationId() !== id) return;
    const { messages, summary, activeLeafId, ...meta } = conv;
    this.chat.summary.set(summary ?? null);
    this.chat.conversation.set(meta);
    if (this.chat.streaming()) return;
    const view = branchView(messages, activeLeafId);
    const current = this.chat.messages();
    const same = !force && view.length === current.length && view.every((m, i) => m.id === current[i]!.id);
    if (same) {
      // Stopped and failed answers get their usage (and cost) once the server has stored it.
      this.chat.messages.set(
        current.map((m, i) => {
          const v = view[i]!;
          const usage = m.usage ?? (m.status === 'cancelled' || m.status === 'failed' ? v.usage : null);
          return { ...m, parentId: v.parentId, branch: v.branch, usage, cost: m.cost ?? v.cost };
        }),
      );
    } else {
      this.chat.messages.set(view);
    }
  }

  /** After an answer ended (done or error). */
  async afterAnswer(): Promise<void> {
    // The server may have titled the conversation after the first answer.
    const id = this.chat.conversationId();
    await this.conversations.load();
    const found = this.conversations.items().find((c) => c.id === id);
    if (found && this.chat.conversationId() === id) this.chat.conversation.set(found);
    // History may have been compressed for this answer, and branch counters may have changed.
    if (!id) return;
    try {
      await this.refreshView(id);
    } catch {
      // Best effort: shown on the next load.
    }
  }

  /** The server created the conversation of the first message: fetch it for the list and the header. */
  async adoptCreated(id: string): Promise<void> {
    await this.conversations.load();
    const found = this.conversations.items().find((c) => c.id === id);
    if (found && this.chat.conversationId() === id) {
      this.chat.conversation.set(found);
      return;
    }
    try {
      const { messages: _ignored, ...meta } = await this.api.getConversation(id);
      if (this.chat.conversationId() === id) this.chat.conversation.set(meta);
      this.conversations.upsert(meta);
    } catch {
      // The list refresh already reported errors.
    }
  }
}
