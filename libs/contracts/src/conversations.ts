import { z } from 'zod';
import { blockSchema } from './blocks.js';
import { modelParamsSchema } from './params.js';
import { safeText } from './safe-text.js';

export const conversationCreateSchema = z.object({
  title: safeText().trim().min(1).max(200).optional(),
  modelId: safeText().min(1).max(200).optional(),
  systemPrompt: safeText().max(20_000).optional(),
  params: modelParamsSchema.optional(),
});
export type ConversationCreate = z.infer<typeof conversationCreateSchema>;

export const conversationUpdateSchema = conversationCreateSchema.extend({
  systemPrompt: safeText().max(20_000).nullable().optional(),
  /** Switch the conversation's current branch to the one ending at (or passing through) this message. */
  activeLeafId: z.uuid().optional(),
});
export type ConversationUpdate = z.infer<typeof conversationUpdateSchema>;

export const conversationListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: safeText().max(200).optional(),
  q: safeText().trim().max(200).optional(),
});
export type ConversationListQuery = z.infer<typeof conversationListQuerySchema>;

export const messageRoles = ['user', 'assistant'] as const;
export type MessageRole = (typeof messageRoles)[number];

export const usageSchema = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  /** Input tokens read from Bedrock's prompt cache (not part of inputTokens). */
  cacheReadTokens: z.number().int().optional(),
  /** Input tokens written to Bedrock's prompt cache (not part of inputTokens). */
  cacheWriteTokens: z.number().int().optional(),
});
export type Usage = z.infer<typeof usageSchema>;

/**
 * Token totals and cost (USD, from the catalog's prices when each call was made) of a conversation:
 * every answer plus the history-compression calls.
 */
export const conversationUsageSchema = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cost: z.number(),
});
export type ConversationUsage = z.infer<typeof conversationUsageSchema>;

/** The compressed older part of a conversation's history. */
export const conversationSummarySchema = z.object({
  text: z.string(),
  /** How many messages (of the branch it was made on, oldest first) the summary stands for. */
  coversMessages: z.number().int(),
  /** The last message the summary covers. */
  uptoMessageId: z.string().nullable(),
  createdAt: z.string(),
});
export type ConversationSummary = z.infer<typeof conversationSummarySchema>;

/** A stored message of a conversation. */
export const messageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  role: z.enum(messageRoles),
  content: z.array(blockSchema),
  modelId: z.string().nullable(),
  jobId: z.string().nullable(),
  status: z.enum(['complete', 'streaming', 'cancelled', 'failed']),
  stopReason: z.string().nullable(),
  usage: usageSchema.nullable(),
  /** The message this one follows (null for the first of a conversation); siblings are branches. */
  parentId: z.string().nullable().optional(),
  /** Assistant messages: the model's extended thinking, when it thought. */
  reasoning: z.string().nullable().optional(),
  /** Assistant messages: USD cost at the catalog's prices when it was answered. */
  cost: z.number().nullable().optional(),
  createdAt: z.string(),
});
export type Message = z.infer<typeof messageSchema>;

export const conversationSchema = z.object({
  id: z.string(),
  title: z.string(),
  modelId: z.string(),
  systemPrompt: z.string().nullable(),
  params: modelParamsSchema,
  /** Totals over every assistant message of the conversation. */
  usage: conversationUsageSchema.optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Conversation = z.infer<typeof conversationSchema>;
/**
 * `GET /v1/conversations/:id`: every message of every branch in insertion order (each with `parentId`),
 * the current branch's last message (`activeLeafId`) and the history summary when compression happened.
 */
export type ConversationWithMessages = Conversation & {
  messages: Message[];
  activeLeafId?: string | null;
  summary?: ConversationSummary | null;
};
/** List item; with `?q=` it carries a short `snippet` of the match. */
export type ConversationListItem = Conversation & { snippet?: string };
export type ConversationPage = { items: ConversationListItem[]; nextCursor: string | null };
