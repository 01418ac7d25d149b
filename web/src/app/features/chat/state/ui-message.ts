import type { Block, ChatState, Usage } from '@switchboard/contracts';

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

/** An answer still being written (or waiting for its job). */
export const isLiveAnswer = (m: UiMessage): boolean => m.role === 'assistant' && (m.status === 'pending' || m.status === 'streaming');
