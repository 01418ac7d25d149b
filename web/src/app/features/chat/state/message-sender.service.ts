import { Injectable, inject } from '@angular/core';
import { Router } from '@angular/router';
import type { Block } from '@switchboard/contracts';
import { ChatSocketService } from '../../../core/chat-socket.service';
import { errorKey } from '../../../core/errors';
import { ConversationsStore } from '../../conversations/conversations.store';
import { AnswerTracker } from './answer-tracker.service';
import { newClientId } from './client-id';
import { ConversationRefresh } from './conversation-refresh.service';
import { OpenConversation } from './open-conversation.store';
import type { SendResult, UiMessage } from './ui-message';

type SendOptions = { parentMessageId?: string | null; replaceFrom?: string };

/**
 * Sends, regenerates, edits and stops. Messages show at once (optimistically); while offline they
 * wait for the connection with the same clientMessageId, so a resend cannot make a second turn.
 */
@Injectable()
export class MessageSender {
  private readonly socket = inject(ChatSocketService);
  private readonly chat = inject(OpenConversation);
  private readonly answers = inject(AnswerTracker);
  private readonly refresh = inject(ConversationRefresh);
  private readonly conversations = inject(ConversationsStore);
  private readonly router = inject(Router);

  async send(content: Block[], options: SendOptions = {}): Promise<boolean> {
    const result = await this.sendWithResult(content, options);
    if (!result.ok) this.chat.sendError.set(result.error);
    return result.ok;
  }

  /** Sends a message; on a refusal the optimistic messages go away and the caller keeps the text. */
  async sendWithResult(content: Block[], options: SendOptions = {}): Promise<SendResult> {
    const chat = this.chat;
    if (chat.streaming() || content.length === 0) return { ok: false, error: 'errors.generic' };
    chat.sendError.set(null);
    chat.stopWhenAcked = false;
    const clientMessageId = newClientId();
    const now = new Date().toISOString();
    const modelId = chat.selectedModel()?.id ?? null;
    const base = { id: null, usage: null, jobId: null, state: null, position: null, attempt: null, error: null, createdAt: now, modelId };
    const userKey = `u-${clientMessageId}`;
    const answerKey = `a-${clientMessageId}`;
    const before = chat.messages();
    chat.messages.update((list) => {
      const cut = options.replaceFrom ? list.findIndex((m) => m.key === options.replaceFrom) : -1;
      return [
        ...(cut < 0 ? list : list.slice(0, cut)),
        { ...base, key: userKey, role: 'user', content, text: '', status: 'complete', parentId: options.parentMessageId },
        { ...base, key: answerKey, role: 'assistant', content: [], text: '', status: 'pending', waitingForConnection: !this.socket.connected() },
      ];
    });
    const conversationId = chat.conversationId();
    const gen = chat.generation;
    const ack = await this.socket.send({
      conversationId: conversationId ?? undefined,
      content,
      modelId: modelId ?? undefined,
      clientMessageId,
      ...(options.parentMessageId !== undefined && conversationId ? { parentMessageId: options.parentMessageId } : {}),
    });
    if (!ack.ok) {
      if (gen === chat.generation) chat.messages.set(before);
      return { ok: false, error: errorKey(ack.error) };
    }
    chat.patch(userKey, { id: ack.messageId });
    this.answers.track(ack.jobId, answerKey, ack.assistantMessageId, ack.conversationId);

    if (!conversationId && gen === chat.generation) {
      // The server created the conversation: adopt it and show its URL.
      chat.conversationId.set(ack.conversationId);
      void this.router.navigate(['/chat', ack.conversationId], { replaceUrl: true });
      void this.refresh.adoptCreated(ack.conversationId);
    } else {
      const conv = chat.conversation();
      if (conv) this.conversations.upsert({ ...conv, updatedAt: now });
    }
    if (chat.stopWhenAcked) void this.stop();
    return { ok: true };
  }

  /** Edit and resend: a new user message next to `original` (same parent), answered on a new branch. */
  async editAndResend(original: UiMessage, text: string): Promise<boolean> {
    const content: Block[] = [...original.content.filter((b) => b.type !== 'text'), { type: 'text', text }];
    return this.send(content, { parentMessageId: original.parentId ?? null, replaceFrom: original.key });
  }

  /** A new answer to the user message `answer` replied to, stored as a sibling of `answer`. */
  async regenerate(answer: UiMessage): Promise<boolean> {
    const chat = this.chat;
    if (chat.streaming() || !answer.id) return false;
    chat.sendError.set(null);
    const clientMessageId = newClientId();
    const modelId = chat.selectedModel()?.id ?? null;
    const answerKey = `a-${clientMessageId}`;
    chat.messages.update((list) => {
      const i = list.findIndex((m) => m.key === answer.key);
      const pending: UiMessage = {
        key: answerKey, id: null, role: 'assistant', content: [], text: '', status: 'pending', modelId, usage: null, jobId: null,
        state: null, position: null, attempt: null, error: null, createdAt: new Date().toISOString(), parentId: answer.parentId, branch: null,
      };
      return [...list.slice(0, i < 0 ? list.length : i), pending];
    });
    if (!this.socket.connected()) chat.patch(answerKey, { waitingForConnection: true });
    const ack = await this.socket.regenerate({ messageId: answer.id, modelId: modelId ?? undefined, clientMessageId });
    if (!ack.ok) {
      // Nothing was stored: show the answer as it was, and say why once.
      chat.messages.update((list) => list.map((m) => (m.key === answerKey ? answer : m)));
      chat.sendError.set(errorKey(ack.error));
      return false;
    }
    this.answers.track(ack.jobId, answerKey, ack.assistantMessageId);
    if (chat.stopWhenAcked) void this.stop();
    return true;
  }

  /** Retry of a failed answer, in place: a new answer to the same question replaces it in the view. */
  retry(answer: UiMessage): Promise<boolean> {
    return this.regenerate(answer);
  }

  async stop(): Promise<void> {
    const msg = this.chat.streamingMessage();
    if (!msg) return;
    if (!msg.jobId) {
      this.chat.stopWhenAcked = true;
      return;
    }
    await this.socket.cancel(msg.jobId);
    // Partial text stays; a later chat:done/chat:error for this job still updates it.
    const current = this.chat.messages().find((m) => m.key === msg.key);
    if (current && (current.status === 'streaming' || current.status === 'pending')) {
      this.chat.patch(msg.key, { status: 'cancelled', state: null, position: null });
    }
  }
}
