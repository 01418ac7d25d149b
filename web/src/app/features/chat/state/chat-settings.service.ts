import { Injectable, inject } from '@angular/core';
import { Router } from '@angular/router';
import type { ModelParams } from '@switchboard/contracts';
import { ApiService } from '../../../core/api.service';
import { errorKey, toUiError } from '../../../core/errors';
import { ConversationsStore } from '../../conversations/conversations.store';
import { OpenConversation } from './open-conversation.store';

/** The open conversation's model, system prompt and parameters. */
@Injectable()
export class ChatSettings {
  private readonly api = inject(ApiService);
  private readonly chat = inject(OpenConversation);
  private readonly conversations = inject(ConversationsStore);
  private readonly router = inject(Router);

  async setModel(modelId: string): Promise<void> {
    this.chat.selectedModelId.set(modelId);
    const id = this.chat.conversationId();
    if (!id) return;
    try {
      const updated = await this.api.updateConversation(id, { modelId });
      if (this.chat.conversationId() === id) this.chat.conversation.set(updated);
      this.conversations.upsert(updated, false);
    } catch (err) {
      this.chat.sendError.set(errorKey(toUiError(err)));
    }
  }

  /** Saves the system prompt and parameters; a new chat is created on the server first. */
  async save(settings: { systemPrompt: string | null; params: ModelParams }): Promise<void> {
    const chat = this.chat;
    const id = chat.conversationId();
    try {
      if (id) {
        const updated = await this.api.updateConversation(id, settings);
        if (chat.conversationId() === id) chat.conversation.set(updated);
        this.conversations.upsert(updated, false);
      } else {
        const created = await this.api.createConversation({ ...settings, systemPrompt: settings.systemPrompt ?? undefined, modelId: chat.selectedModel()?.id });
        this.conversations.upsert(created);
        chat.conversationId.set(created.id);
        chat.conversation.set(created);
        void this.router.navigate(['/chat', created.id], { replaceUrl: true });
      }
    } catch (err) {
      chat.sendError.set(errorKey(toUiError(err)));
    }
  }
}
