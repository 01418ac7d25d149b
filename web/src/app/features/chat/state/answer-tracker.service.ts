import { DestroyRef, Injectable, inject } from '@angular/core';
import type { ChatDoneEvent, ChatErrorEvent, ChatStatusEvent } from '@switchboard/contracts';
import { chatStates } from '@switchboard/contracts/constants';
import { ChatSocketService, type ChatServerEvent } from '../../../core/chat-socket.service';
import { errorKey } from '../../../core/errors';
import { ConversationsStore } from '../../conversations/conversations.store';
import { costOf } from '../../../shared/cost';
import { AnswerStream, finalText } from './answer-stream';
import { ConversationRefresh } from './conversation-refresh.service';
import { ModelsStore } from './models.store';
import { OpenConversation } from './open-conversation.store';
import type { UiMessage } from './ui-message';

type Tracked = { key: string; stream: AnswerStream; conversationId: string | null };

const knownStates: readonly string[] = chatStates;
/** Events of jobs not known yet (they can beat the send ack): at most this many jobs are kept. */
const MAX_EARLY_JOBS = 20;

/**
 * Follows the answers being written: applies `chat:status|delta|done|error` to their messages
 * (deltas through an AnswerStream each) and resumes them after a reconnect.
 */
@Injectable()
export class AnswerTracker {
  private readonly socket = inject(ChatSocketService);
  private readonly chat = inject(OpenConversation);
  private readonly models = inject(ModelsStore);
  private readonly conversations = inject(ConversationsStore);
  private readonly refresh = inject(ConversationRefresh);
  private readonly jobs = new Map<string, Tracked>();
  private readonly early = new Map<string, ChatServerEvent[]>();

  constructor() {
    this.socket.connect();
    const events = this.socket.events.subscribe((e) => this.handle(e));
    const reconnects = this.socket.reconnected.subscribe(() => this.resumeAll());
    inject(DestroyRef).onDestroy(() => {
      events.unsubscribe();
      reconnects.unsubscribe();
    });
  }

  has(jobId: string): boolean {
    return this.jobs.has(jobId);
  }

  /** The server acknowledged a send: the answer at `key` is job `jobId`. */
  track(jobId: string, key: string, messageId?: string, conversationId = this.chat.conversationId()): void {
    this.jobs.set(jobId, { key, stream: new AnswerStream(), conversationId });
    if (conversationId) this.conversations.markLive(conversationId, true);
    this.chat.patch(key, { jobId, status: 'streaming', state: 'queued', waitingForConnection: false, ...(messageId ? { id: messageId } : {}) });
    const buffered = this.early.get(jobId);
    this.early.delete(jobId);
    buffered?.forEach((e) => this.handle(e));
  }

  /**
   * Answers still being generated in a freshly loaded view (after a reload, or a turn started in
   * another tab): replayed from the start. `onlyNew` leaves jobs already followed alone.
   */
  followStreaming(view: readonly UiMessage[], conversationId: string, onlyNew = false): void {
    for (const m of view) {
      if (m.role !== 'assistant' || m.status !== 'streaming' || !m.jobId) continue;
      if (onlyNew && this.jobs.has(m.jobId)) continue;
      this.chat.patch(m.key, { text: '' });
      this.jobs.set(m.jobId, { key: m.key, stream: new AnswerStream(), conversationId });
      void this.socket.resume(m.jobId, 0);
    }
  }

  private handle(e: ChatServerEvent): void {
    const jobId = e.event.jobId;
    const track = this.jobs.get(jobId);
    if (!track) {
      const list = this.early.get(jobId) ?? [];
      list.push(e);
      this.early.set(jobId, list);
      if (this.early.size > MAX_EARLY_JOBS) this.early.delete(this.early.keys().next().value!);
      return;
    }
    if (track.stream.finished) return;
    switch (e.type) {
      case 'status':
        return this.onStatus(track, e.event);
      case 'delta': {
        const step = track.stream.accept(e.event);
        if (step.advanced) {
          this.chat.messages.update((list) =>
            list.map((m) =>
              m.key === track.key
                ? {
                    ...m,
                    text: m.text + step.text,
                    ...(step.reasoning ? { reasoning: (m.reasoning ?? '') + step.reasoning } : {}),
                    status: m.status === 'pending' ? 'streaming' : m.status,
                    state: 'active',
                    position: null,
                  }
                : m,
            ),
          );
        }
        // A gap: ask the server to replay from the last contiguous delta.
        if (step.resumeAfter !== null) void this.socket.resume(jobId, step.resumeAfter).finally(() => track.stream.resumeSettled());
        return;
      }
      case 'done':
        return this.onDone(track, e.event);
      case 'error':
        return this.onError(track, e.event);
    }
  }

  private onStatus(track: Tracked, event: ChatStatusEvent): void {
    if (!knownStates.includes(event.state)) return;
    this.chat.patchIfLive(track.key, {
      state: event.state,
      position: event.state === 'queued' ? (event.position ?? null) : null,
      attempt: event.attempt ?? null,
    });
  }

  private onDone(track: Tracked, event: ChatDoneEvent): void {
    this.end(track);
    const { text, usage, messageId, stopReason, cost, reasoning } = event;
    const current = this.chat.messages().find((m) => m.key === track.key);
    const cancelled = stopReason === 'cancelled' || current?.status === 'cancelled';
    this.chat.patch(track.key, {
      id: messageId,
      text: finalText(text, current?.text ?? '', cancelled),
      usage,
      cost,
      ...(reasoning ? { reasoning } : {}),
      status: cancelled ? 'cancelled' : 'complete',
      state: null,
      position: null,
    });
    // Count this answer in the totals at once; the refresh after it brings the server's figures.
    this.chat.conversation.update((c) =>
      c?.usage
        ? { ...c, usage: { inputTokens: c.usage.inputTokens + usage.inputTokens, outputTokens: c.usage.outputTokens + usage.outputTokens, cost: c.usage.cost + (cost ?? costOf(usage, this.models.modelOf(current?.modelId)) ?? 0) } }
        : c,
    );
    void this.refresh.afterAnswer();
  }

  private onError(track: Tracked, event: ChatErrorEvent): void {
    this.end(track);
    const cancelled = event.code === 'cancelled';
    this.chat.patch(track.key, {
      status: cancelled ? 'cancelled' : 'failed',
      error: cancelled ? null : errorKey(event),
      state: null,
      position: null,
    });
    // The server stored what the failed call used (and any partial text).
    void this.refresh.afterAnswer();
  }

  private end(track: Tracked): void {
    track.stream.finish();
    if (track.conversationId) this.conversations.markLive(track.conversationId, false);
  }

  private resumeAll(): void {
    for (const [jobId, track] of this.jobs) {
      if (!track.stream.finished) void this.socket.resume(jobId, track.stream.lastSeq);
    }
  }
}
