import { DestroyRef, Injectable, computed, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import type {
  Block, ChatState, Conversation, ConversationSummary, ConversationUpdatedEvent, Message, ModelParams, PublicModel, Usage,
} from '@switchboard/contracts';
import { ApiService } from '../../core/api.service';
import { ChatSocketService, type ChatServerEvent } from '../../core/chat-socket.service';
import { errorKey, toUiError } from '../../core/errors';
import { ConversationsStore } from '../conversations/conversations.store';
import { costOf } from './usage';

export type UiMessageStatus = 'pending' | 'streaming' | 'complete' | 'cancelled' | 'failed';

/** A message as the view shows it: stored messages plus the one being streamed. */
export type UiMessage = {
  key: string;
  id: string | null;
  role: 'user' | 'assistant';
  content: Block[];
  /** Assistant answer text (streamed, then replaced by the final text). */
  text: string;
  status: UiMessageStatus;
  modelId: string | null;
  usage: Usage | null;
  jobId: string | null;
  state: ChatState | null;
  position: number | null;
  attempt: number | null;
  error: string | null;
  createdAt: string;
  /** The message this one follows; undefined when the server predates branches. */
  parentId?: string | null;
  /** Set when this message has siblings (other branches): its place among them. */
  branch?: { index: number; count: number; siblings: string[] } | null;
  /** USD cost the server recorded for this answer (at the prices when it was made). */
  cost?: number | null;
  /** Sent while offline: goes out (same clientMessageId) when the connection is back. */
  waitingForConnection?: boolean;
  /** The model's extended thinking (streamed before the answer, shown collapsed). */
  reasoning?: string;
};

/** The outcome of a send: refused ones keep the text in the box and say why (an i18n key). */
export type SendResult = { ok: true } | { ok: false; error: string };

type JobTrack = { key: string; lastSeq: number; ahead: Map<number, { text: string; reasoning?: string }>; finished: boolean; resumeAsked: boolean; conversationId?: string | null };

const knownStates: readonly string[] = ['queued', 'active', 'retrying', 'compressing'];

function uuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function fromServer(m: Message): UiMessage {
  const text = m.role === 'assistant' ? m.content.filter((b) => b.type === 'text').map((b) => b.text).join('\n') : '';
  return {
    key: m.id,
    id: m.id,
    role: m.role,
    content: m.content,
    text,
    status: m.status,
    modelId: m.modelId,
    usage: m.usage,
    jobId: m.jobId,
    state: null,
    position: null,
    attempt: null,
    error: null,
    createdAt: m.createdAt,
    parentId: m.parentId,
    branch: null,
    cost: m.cost,
    ...(m.reasoning ? { reasoning: m.reasoning } : {}),
  };
}

/**
 * The messages of the current branch (root → active leaf), each with its place among its siblings.
 * Without parent links (older servers) every message is shown in order.
 */
export function branchView(all: Message[], activeLeafId: string | null | undefined): UiMessage[] {
  if (!all.some((m) => m.parentId !== undefined)) return all.map(fromServer);
  const byId = new Map(all.map((m) => [m.id, m]));
  const children = new Map<string | null, string[]>();
  for (const m of all) {
    const k = m.parentId ?? null;
    children.set(k, [...(children.get(k) ?? []), m.id]);
  }
  const path: Message[] = [];
  let cur = (activeLeafId && byId.get(activeLeafId)) || all.at(-1);
  for (let guard = 0; cur && guard <= all.length; guard++) {
    path.unshift(cur);
    cur = cur.parentId ? byId.get(cur.parentId) : undefined;
  }
  return path.map((m) => {
    const siblings = children.get(m.parentId ?? null) ?? [m.id];
    return { ...fromServer(m), branch: siblings.length > 1 ? { index: siblings.indexOf(m.id), count: siblings.length, siblings } : null };
  });
}

/** State of the open conversation and its streaming answer. One per chat page. */
@Injectable()
export class ChatStore {
  private readonly api = inject(ApiService);
  private readonly socket = inject(ChatSocketService);
  private readonly conversations = inject(ConversationsStore);
  private readonly router = inject(Router);

  readonly models = signal<PublicModel[]>([]);
  readonly modelsError = signal<string | null>(null);
  readonly conversationId = signal<string | null>(null);
  readonly conversation = signal<Conversation | null>(null);
  readonly messages = signal<UiMessage[]>([]);
  readonly loading = signal(false);
  readonly loadError = signal<string | null>(null);
  readonly sendError = signal<string | null>(null);
  readonly selectedModelId = signal<string | null>(null);
  /** The compressed older history, when the server summarized it. */
  readonly summary = signal<ConversationSummary | null>(null);

  readonly defaultModel = computed<PublicModel | undefined>(() => this.models().find((m) => m.default) ?? this.models()[0]);
  readonly selectedModel = computed<PublicModel | undefined>(
    () => this.models().find((m) => m.id === this.selectedModelId()) ?? this.defaultModel(),
  );
  readonly streamingMessage = computed(() =>
    this.messages().find((m) => m.role === 'assistant' && (m.status === 'pending' || m.status === 'streaming')),
  );
  readonly streaming = computed(() => this.streamingMessage() !== undefined);
  readonly totals = computed(() => {
    let inputTokens = 0;
    let outputTokens = 0;
    let cost = 0;
    let priced = false;
    for (const m of this.messages()) {
      if (!m.usage) continue;
      inputTokens += m.usage.inputTokens;
      outputTokens += m.usage.outputTokens;
      const c = m.cost ?? costOf(m.usage, this.modelOf(m.modelId));
      if (c !== null) {
        cost += c;
        priced = true;
      }
    }
    // The server's totals also cover other branches; a snapshot older than the answers shown loses.
    const server = this.conversation()?.usage;
    if (server && server.inputTokens >= inputTokens && server.outputTokens >= outputTokens) {
      return { inputTokens: server.inputTokens, outputTokens: server.outputTokens, cost: server.cost, any: server.inputTokens + server.outputTokens > 0 };
    }
    return { inputTokens, outputTokens, cost: priced ? cost : null, any: inputTokens + outputTokens > 0 };
  });

  private readonly jobs = new Map<string, JobTrack>();
  private readonly early = new Map<string, ChatServerEvent[]>();
  private openGeneration = 0;
  private cancelWhenAcked = false;
  private listReload: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.socket.connect();
    const events = this.socket.events.subscribe((e) => this.handle(e));
    const reconnects = this.socket.reconnected.subscribe(() => this.resumeAll());
    const updates = this.socket.conversationUpdates.subscribe((e) => this.onConversationUpdate(e));
    inject(DestroyRef).onDestroy(() => {
      events.unsubscribe();
      reconnects.unsubscribe();
      updates.unsubscribe();
      clearTimeout(this.listReload);
    });
  }

  modelOf(id: string | null | undefined): PublicModel | undefined {
    return this.models().find((m) => m.id === id) ?? (id ? undefined : this.defaultModel());
  }

  async loadModels(): Promise<void> {
    try {
      this.models.set(await this.api.models());
      this.modelsError.set(null);
    } catch (err) {
      this.modelsError.set(errorKey(toUiError(err)));
    }
  }

  async open(id: string | null): Promise<void> {
    if (id === this.conversationId()) return;
    await this.load(id);
  }

  /** (Re)load a conversation from the server. */
  async load(id: string | null): Promise<void> {
    const gen = ++this.openGeneration;
    this.conversationId.set(id);
    this.sendError.set(null);
    this.loadError.set(null);
    this.cancelWhenAcked = false;
    if (id === null) {
      this.conversation.set(null);
      this.summary.set(null);
      this.messages.set([]);
      this.selectedModelId.set(null);
      return;
    }
    this.loading.set(true);
    this.messages.set([]);
    try {
      const conv = await this.api.getConversation(id);
      if (gen !== this.openGeneration) return;
      const { messages, summary, activeLeafId, ...meta } = conv;
      this.conversation.set(meta);
      this.summary.set(summary ?? null);
      this.selectedModelId.set(meta.modelId);
      const ui = branchView(messages, activeLeafId);
      this.messages.set(ui);
      // An answer still being generated (e.g. after a reload): replay it from the start.
      for (const m of ui) {
        if (m.role === 'assistant' && m.status === 'streaming' && m.jobId) {
          this.patch(m.key, { text: '' });
          this.jobs.set(m.jobId, { key: m.key, lastSeq: 0, ahead: new Map(), finished: false, resumeAsked: false, conversationId: id });
          void this.socket.resume(m.jobId, 0);
        }
      }
    } catch (err) {
      if (gen === this.openGeneration) this.loadError.set(errorKey(toUiError(err)));
    } finally {
      if (gen === this.openGeneration) this.loading.set(false);
    }
  }

  async setModel(modelId: string): Promise<void> {
    this.selectedModelId.set(modelId);
    const id = this.conversationId();
    if (!id) return;
    try {
      const updated = await this.api.updateConversation(id, { modelId });
      if (this.conversationId() === id) this.conversation.set(updated);
      this.conversations.upsert(updated, false);
    } catch (err) {
      this.sendError.set(errorKey(toUiError(err)));
    }
  }

  /** Saves the system prompt and parameters; a new chat is created on the server first. */
  async saveSettings(settings: { systemPrompt: string | null; params: ModelParams }): Promise<void> {
    const id = this.conversationId();
    try {
      if (id) {
        const updated = await this.api.updateConversation(id, settings);
        if (this.conversationId() === id) this.conversation.set(updated);
        this.conversations.upsert(updated, false);
      } else {
        const created = await this.api.createConversation({ ...settings, systemPrompt: settings.systemPrompt ?? undefined, modelId: this.selectedModel()?.id });
        this.conversations.upsert(created);
        this.conversationId.set(created.id);
        this.conversation.set(created);
        void this.router.navigate(['/chat', created.id], { replaceUrl: true });
      }
    } catch (err) {
      this.sendError.set(errorKey(toUiError(err)));
    }
  }

  /** Shows another branch: the server makes the one through `messageId` current. */
  async switchBranch(messageId: string): Promise<void> {
    const id = this.conversationId();
    if (!id || this.streaming()) return;
    try {
      await this.api.updateConversation(id, { activeLeafId: messageId });
      await this.refreshView(id, true);
    } catch (err) {
      this.sendError.set(errorKey(toUiError(err)));
    }
  }

  /** Edit and resend: a new user message next to `original` (same parent), answered on a new branch. */
  async editAndResend(original: UiMessage, text: string): Promise<boolean> {
    const content: Block[] = [...original.content.filter((b) => b.type !== 'text'), { type: 'text', text }];
    return this.send(content, { parentMessageId: original.parentId ?? null, replaceFrom: original.key });
  }

  /** A new answer to the user message `answer` replied to, stored as a sibling of `answer`. */
  async regenerate(answer: UiMessage): Promise<boolean> {
    if (this.streaming() || !answer.id) return false;
    this.sendError.set(null);
    const clientMessageId = uuid();
    const modelId = this.selectedModel()?.id ?? null;
    const answerKey = `a-${clientMessageId}`;
    this.messages.update((list) => {
      const i = list.findIndex((m) => m.key === answer.key);
      const pending: UiMessage = {
        key: answerKey, id: null, role: 'assistant', content: [], text: '', status: 'pending', modelId, usage: null, jobId: null,
        state: null, position: null, attempt: null, error: null, createdAt: new Date().toISOString(), parentId: answer.parentId, branch: null,
      };
      return [...list.slice(0, i < 0 ? list.length : i), pending];
    });
    if (!this.socket.connected()) this.patch(answerKey, { waitingForConnection: true });
    const ack = await this.socket.regenerate({ messageId: answer.id, modelId: modelId ?? undefined, clientMessageId });
    if (!ack.ok) {
      // Nothing was stored: show the answer as it was, and say why once.
      this.messages.update((list) => list.map((m) => (m.key === answerKey ? answer : m)));
      this.sendError.set(errorKey(ack.error));
      return false;
    }
    this.track(ack.jobId, answerKey, ack.assistantMessageId);
    if (this.cancelWhenAcked) void this.stop();
    return true;
  }

  private track(jobId: string, key: string, messageId?: string, conversationId = this.conversationId()): void {
    this.jobs.set(jobId, { key, lastSeq: 0, ahead: new Map(), finished: false, resumeAsked: false, conversationId });
    if (conversationId) this.conversations.markLive(conversationId, true);
    this.patch(key, { jobId, status: 'streaming', state: 'queued', waitingForConnection: false, ...(messageId ? { id: messageId } : {}) });
    const buffered = this.early.get(jobId);
    this.early.delete(jobId);
    buffered?.forEach((e) => this.handle(e));
  }

  /**
   * Re-reads the conversation without clearing the view: branch counters and the summary change
   * after an answer; the messages are replaced only when the branch shown differs (or `force`).
   */
  private async refreshView(id: string, force = false): Promise<void> {
    const conv = await this.api.getConversation(id);
    if (this.conversationId() !== id) return;
    const { messages, summary, activeLeafId, ...meta } = conv;
    this.summary.set(summary ?? null);
    this.conversation.set(meta);
    if (this.streaming()) return;
    const view = branchView(messages, activeLeafId);
    const current = this.messages();
    const same = !force && view.length === current.length && view.every((m, i) => m.id === current[i]!.id);
    if (same) {
      // Stopped and failed answers get their usage (and cost) once the server has stored it.
      this.messages.set(
        current.map((m, i) => {
          const v = view[i]!;
          const usage = m.usage ?? (m.status === 'cancelled' || m.status === 'failed' ? v.usage : null);
          return { ...m, parentId: v.parentId, branch: v.branch, usage, cost: m.cost ?? v.cost };
        }),
      );
    } else {
      this.messages.set(view);
    }
  }

  async send(content: Block[], options: { parentMessageId?: string | null; replaceFrom?: string } = {}): Promise<boolean> {
    const result = await this.sendWithResult(content, options);
    if (!result.ok) this.sendError.set(result.error);
    return result.ok;
  }

  /** Sends a message; on a refusal the optimistic messages go away and the caller keeps the text. */
  async sendWithResult(content: Block[], options: { parentMessageId?: string | null; replaceFrom?: string } = {}): Promise<SendResult> {
    if (this.streaming() || content.length === 0) return { ok: false, error: 'errors.generic' };
    this.sendError.set(null);
    this.cancelWhenAcked = false;
    const clientMessageId = uuid();
    const now = new Date().toISOString();
    const modelId = this.selectedModel()?.id ?? null;
    const base = { id: null, usage: null, jobId: null, state: null, position: null, attempt: null, error: null, createdAt: now, modelId };
    const userKey = `u-${clientMessageId}`;
    const answerKey = `a-${clientMessageId}`;
    const before = this.messages();
    this.messages.update((list) => {
      const cut = options.replaceFrom ? list.findIndex((m) => m.key === options.replaceFrom) : -1;
      return [
      ...(cut < 0 ? list : list.slice(0, cut)),
      { ...base, key: userKey, role: 'user', content, text: '', status: 'complete', parentId: options.parentMessageId },
      { ...base, key: answerKey, role: 'assistant', content: [], text: '', status: 'pending', waitingForConnection: !this.socket.connected() },
      ];
    });
    const conversationId = this.conversationId();
    const gen = this.openGeneration;
    const ack = await this.socket.send({
      conversationId: conversationId ?? undefined,
      content,
      modelId: modelId ?? undefined,
      clientMessageId,
      ...(options.parentMessageId !== undefined && conversationId ? { parentMessageId: options.parentMessageId } : {}),
    });
    if (!ack.ok) {
      if (gen === this.openGeneration) this.messages.set(before);
      return { ok: false, error: errorKey(ack.error) };
    }
    this.patch(userKey, { id: ack.messageId });
    this.track(ack.jobId, answerKey, ack.assistantMessageId, ack.conversationId);

    if (!conversationId && gen === this.openGeneration) {
      // The server created the conversation: adopt it and show its URL.
      this.conversationId.set(ack.conversationId);
      void this.router.navigate(['/chat', ack.conversationId], { replaceUrl: true });
      void this.refreshConversation(ack.conversationId);
    } else {
      const conv = this.conversation();
      if (conv) this.conversations.upsert({ ...conv, updatedAt: now });
    }
    if (this.cancelWhenAcked) void this.stop();
    return { ok: true };
  }

  /** Retry of a failed answer, in place: a new answer to the same question replaces it in the view. */
  retry(answer: UiMessage): Promise<boolean> {
    return this.regenerate(answer);
  }

  async stop(): Promise<void> {
    const msg = this.streamingMessage();
    if (!msg) return;
    if (!msg.jobId) {
      this.cancelWhenAcked = true;
      return;
    }
    const jobId = msg.jobId;
    await this.socket.cancel(jobId);
    // Partial text stays; a later chat:done/chat:error for this job still updates it.
    const current = this.messages().find((m) => m.key === msg.key);
    if (current && (current.status === 'streaming' || current.status === 'pending')) {
      this.patch(msg.key, { status: 'cancelled', state: null, position: null });
    }
  }

  private async refreshConversation(id: string): Promise<void> {
    await this.conversations.load();
    const found = this.conversations.items().find((c) => c.id === id);
    if (found && this.conversationId() === id) {
      this.conversation.set(found);
      return;
    }
    try {
      const { messages: _ignored, ...meta } = await this.api.getConversation(id);
      if (this.conversationId() === id) this.conversation.set(meta);
      this.conversations.upsert(meta);
    } catch {
      // The list refresh already reported errors.
    }
  }

  private handle(e: ChatServerEvent): void {
    const jobId = e.event.jobId;
    const track = this.jobs.get(jobId);
    if (!track) {
      // Events can beat the send ack; keep a few until we know the job.
      const list = this.early.get(jobId) ?? [];
      list.push(e);
      this.early.set(jobId, list);
      if (this.early.size > 20) this.early.delete(this.early.keys().next().value!);
      return;
    }
    if (track.finished) return;
    switch (e.type) {
      case 'status': {
        if (!knownStates.includes(e.event.state)) return;
        this.patchIfLive(track.key, {
          state: e.event.state,
          position: e.event.state === 'queued' ? (e.event.position ?? null) : null,
          attempt: e.event.attempt ?? null,
        });
        return;
      }
      case 'delta': {
        const { seq, text, reasoning } = e.event;
        if (seq <= track.lastSeq) return;
        track.ahead.set(seq, { text, reasoning });
        let appended = '';
        let thought = '';
        let advanced = false;
        while (track.ahead.has(track.lastSeq + 1)) {
          track.lastSeq++;
          const d = track.ahead.get(track.lastSeq)!;
          appended += d.text;
          thought += d.reasoning ?? '';
          advanced = true;
          track.ahead.delete(track.lastSeq);
        }
        if (advanced) {
          this.messages.update((list) =>
            list.map((m) =>
              m.key === track.key
                ? {
                    ...m,
                    text: m.text + appended,
                    ...(thought ? { reasoning: (m.reasoning ?? '') + thought } : {}),
                    status: m.status === 'pending' ? 'streaming' : m.status,
                    state: 'active',
                    position: null,
                  }
                : m,
            ),
          );
        } else if (track.ahead.size > 0 && !track.resumeAsked) {
          // A gap: ask the server to replay from the last contiguous delta.
          track.resumeAsked = true;
          void this.socket.resume(jobId, track.lastSeq).finally(() => (track.resumeAsked = false));
        }
        return;
      }
      case 'done': {
        track.finished = true;
        if (track.conversationId) this.conversations.markLive(track.conversationId, false);
        const { text, usage, messageId, stopReason, cost, reasoning } = e.event;
        const current = this.messages().find((m) => m.key === track.key);
        const wasStopped = current?.status === 'cancelled';
        const cancelled = stopReason === 'cancelled' || wasStopped;
        this.patch(track.key, {
          id: messageId,
          // A job cancelled before it started reports no text; keep what was shown.
          text: text || (cancelled ? (current?.text ?? '') : text),
          usage,
          cost,
          ...(reasoning ? { reasoning } : {}),
          status: cancelled ? 'cancelled' : 'complete',
          state: null,
          position: null,
        });
        // Count this answer in the totals at once; the refresh after it brings the server's figures.
        this.conversation.update((c) =>
          c?.usage
            ? { ...c, usage: { inputTokens: c.usage.inputTokens + usage.inputTokens, outputTokens: c.usage.outputTokens + usage.outputTokens, cost: c.usage.cost + (cost ?? costOf(usage, this.modelOf(current?.modelId)) ?? 0) } }
            : c,
        );
        void this.afterAnswer();
        return;
      }
      case 'error': {
        track.finished = true;
        if (track.conversationId) this.conversations.markLive(track.conversationId, false);
        const cancelled = e.event.code === 'cancelled';
        this.patch(track.key, {
          status: cancelled ? 'cancelled' : 'failed',
          error: cancelled ? null : errorKey(e.event),
          state: null,
          position: null,
        });
        // The server stored what the failed call used (and any partial text).
        void this.afterAnswer();
        return;
      }
    }
  }

  private async afterAnswer(): Promise<void> {
    // The server may have titled the conversation after the first answer.
    const id = this.conversationId();
    await this.conversations.load();
    const found = this.conversations.items().find((c) => c.id === id);
    if (found && this.conversationId() === id) this.conversation.set(found);
    // History may have been compressed for this answer, and branch counters may have changed.
    if (!id) return;
    try {
      await this.refreshView(id);
    } catch {
      // Best effort: shown on the next load.
    }
  }

  /** Another tab (or the server) changed a conversation: bring the list and the open one up to date. */
  private onConversationUpdate(e: ConversationUpdatedEvent): void {
    if (e.change === 'title' && e.title) this.conversations.patchTitle(e.conversationId, e.title);
    if ((e.change === 'message' || e.change === 'created') && e.jobId) this.conversations.markLive(e.conversationId, true);
    if (e.change === 'answered' || e.change === 'deleted') this.conversations.markLive(e.conversationId, false);
    if (e.change === 'deleted') this.conversations.drop(e.conversationId);
    else if (e.change !== 'title') {
      clearTimeout(this.listReload);
      this.listReload = setTimeout(() => void this.conversations.load(), 150);
    }
    if (e.conversationId !== this.conversationId()) return;
    if (e.change === 'deleted') {
      this.messages.set([]);
      this.loadError.set('conversations.deletedElsewhere');
      return;
    }
    if (e.change === 'title' && e.title) {
      this.conversation.update((c) => (c ? { ...c, title: e.title! } : c));
      return;
    }
    // A turn started elsewhere: show its messages and follow its answer like after a reload.
    if (e.jobId && !this.jobs.has(e.jobId) && (e.change === 'message' || e.change === 'answered' || e.change === 'created')) {
      void this.adoptForeignTurn(e.conversationId);
      return;
    }
    if (e.change === 'settings') void this.refreshView(e.conversationId).catch(() => undefined);
  }

  private async adoptForeignTurn(id: string): Promise<void> {
    if (this.streaming()) return;
    try {
      const conv = await this.api.getConversation(id);
      if (this.conversationId() !== id || this.streaming()) return;
      const { messages, summary, activeLeafId, ...meta } = conv;
      this.conversation.set(meta);
      this.summary.set(summary ?? null);
      const ui = branchView(messages, activeLeafId);
      this.messages.set(ui);
      for (const m of ui) {
        if (m.role === 'assistant' && m.status === 'streaming' && m.jobId && !this.jobs.has(m.jobId)) {
          this.patch(m.key, { text: '' });
          this.jobs.set(m.jobId, { key: m.key, lastSeq: 0, ahead: new Map(), finished: false, resumeAsked: false, conversationId: id });
          void this.socket.resume(m.jobId, 0);
        }
      }
    } catch {
      // Shown on the next load.
    }
  }

  private resumeAll(): void {
    for (const [jobId, track] of this.jobs) {
      if (!track.finished) void this.socket.resume(jobId, track.lastSeq);
    }
  }

  private patch(key: string, changes: Partial<UiMessage>): void {
    this.messages.update((list) => list.map((m) => (m.key === key ? { ...m, ...changes } : m)));
  }

  private patchIfLive(key: string, changes: Partial<UiMessage>): void {
    this.messages.update((list) =>
      list.map((m) => (m.key === key && (m.status === 'pending' || m.status === 'streaming') ? { ...m, ...changes } : m)),
    );
  }
}
