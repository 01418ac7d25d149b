import { z } from 'zod';
import type { ChatState } from './constants.js';
import { contentSchema } from './blocks.js';
import { safeText } from './safe-text.js';
import { modelParamsSchema } from './params.js';
import type { ErrorInfo } from './errors.js';
import type { Usage } from './conversations.js';

const id = safeText().min(1).max(100);

export const chatSendSchema = z.object({
  conversationId: id.optional(),
  content: contentSchema,
  modelId: safeText().min(1).max(200).optional(),
  params: modelParamsSchema.optional(),
  clientMessageId: safeText().min(1).max(100).optional(),
  /**
   * Send after this message of the conversation (a branch: "edit and resend" passes the parent of the
   * edited message; null = at the start of the conversation). Omitted: after the conversation's
   * current leaf, as before. Needs conversationId.
   */
  parentMessageId: id.nullable().optional(),
});
export type ChatSend = z.infer<typeof chatSendSchema>;

/**
 * `chat:regenerate`: a new answer to the same user message as `messageId` (an assistant message),
 * stored as its sibling. Ack as chat:send (`messageId` is the user message answered).
 */
export const chatRegenerateSchema = z.object({
  messageId: id,
  modelId: safeText().min(1).max(200).optional(),
  params: modelParamsSchema.optional(),
  clientMessageId: safeText().min(1).max(100).optional(),
});
export type ChatRegenerate = z.infer<typeof chatRegenerateSchema>;

export const chatCancelSchema = z.object({ jobId: id });
export type ChatCancel = z.infer<typeof chatCancelSchema>;

export const chatResumeSchema = z.object({ jobId: id, afterSeq: z.number().int().min(0) });
export type ChatResume = z.infer<typeof chatResumeSchema>;

export type AckError = { ok: false; error: ErrorInfo };
export type Ack<T extends object = object> = ({ ok: true } & T) | AckError;
export type ChatSendAck = Ack<{ jobId: string; conversationId: string; messageId: string; assistantMessageId?: string }>;
/** `assistantMessageId`: the answer being written (also on chat:send acks from this version on). */
export type ChatRegenerateAck = Ack<{ jobId: string; conversationId: string; messageId: string; assistantMessageId: string }>;

export type ChatStatusEvent = { jobId: string; state: ChatState; position?: number; attempt?: number };
/** A delta carries answer `text`, thinking `reasoning`, or both (`text` is '' when only reasoning came). */
export type ChatDeltaEvent = { jobId: string; seq: number; text: string; reasoning?: string };
export type ChatDoneEvent = {
  jobId: string;
  conversationId: string;
  messageId: string;
  stopReason: string;
  usage: Usage;
  text: string;
  /** The whole thinking, when the model thought (extended thinking). */
  reasoning?: string;
  /** USD cost of this answer at the catalog's prices. */
  cost?: number;
};
export type ChatErrorEvent = { jobId: string; code: string; message: string; retryable: boolean };

/**
 * `conversation:updated` (server → every socket of the user but the one whose request caused it):
 * `created` (a first message or POST), `message` (a turn started: `jobId` streams it), `answered`
 * (a turn ended), `title` (renamed, e.g. the model-written title), `settings` (PATCH), `deleted`.
 * Clients re-read what they show; older clients ignore the event.
 */
export type ConversationChange = 'created' | 'message' | 'answered' | 'title' | 'settings' | 'deleted';
export type ConversationUpdatedEvent = { conversationId: string; change: ConversationChange; title?: string; jobId?: string };
