import { DestroyRef, Injectable, inject } from '@angular/core';
import type { ConversationUpdatedEvent } from '@switchboard/contracts';
import { ChatSocketService } from '../../../core/chat-socket.service';
import { ConversationsStore } from '../../conversations/conversations.store';
import { AnswerTracker } from './answer-tracker.service';
import { ConversationLoader } from './conversation-loader.service';
import { ConversationRefresh } from './conversation-refresh.service';
import { OpenConversation } from './open-conversation.store';

/** `conversation:updated`: another tab (or the server) changed a conversation; the list and the open one follow. */
@Injectable()
export class ConversationSync {
  private readonly chat = inject(OpenConversation);
  private readonly conversations = inject(ConversationsStore);
  private readonly answers = inject(AnswerTracker);
  private readonly loader = inject(ConversationLoader);
  private readonly refresh = inject(ConversationRefresh);
  private listReload: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    const updates = inject(ChatSocketService).conversationUpdates.subscribe((e) => this.onUpdate(e));
    inject(DestroyRef).onDestroy(() => {
      updates.unsubscribe();
      clearTimeout(this.listReload);
    });
  }

  private onUpdate(e: ConversationUpdatedEvent): void {
    this.updateList(e);
    if (e.conversationId !== this.chat.conversationId()) return;
    if (e.change === 'deleted') {
      this.chat.messages.set([]);
      this.chat.loadError.set('conversations.deletedElsewhere');
      return;
    }
    if (e.change === 'title' && e.title) {
      this.chat.conversation.update((c) => (c ? { ...c, title: e.title! } : c));
      return;
    }
    if (e.jobId && !this.answers.has(e.jobId) && (e.change === 'message' || e.change === 'answered' || e.change === 'created')) {
      void this.loader.adoptForeignTurn(e.conversationId);
      return;
    }
    if (e.change === 'settings') void this.refresh.refreshView(e.conversationId).catch(() => undefined);
  }

  private updateList(e: ConversationUpdatedEvent): void {
    if (e.change === 'title' && e.title) this.conversations.patchTitle(e.conversationId, e.title);
    if ((e.change === 'message' || e.change === 'created') && e.jobId) this.conversations.markLive(e.conversationId, true);
    if (e.change === 'answered' || e.change === 'deleted') this.conversations.markLive(e.conversationId, false);
    if (e.change === 'deleted') this.conversations.drop(e.conversationId);
    else if (e.change !== 'title') {
      // Several changes come together (message, answered, title): one reload of the list.
      clearTimeout(this.listReload);
      this.listReload = setTimeout(() => void this.conversations.load(), 150);
    }
  }
}
