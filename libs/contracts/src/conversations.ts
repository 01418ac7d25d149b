import { z } from 'zod';
import { blockSchema } from './blocks.js';
import { modelParamsSchema } from './params.js';

export const conversationCreateSchema = z.object({
  title: z.string().trim().min(1).max(200).optional(),
  modelId: z.string().min(1).max(200).optional(),
  systemPrompt: z.string().max(20_000).optional(),
  params: modelParamsSchema.optional(),
});
export type ConversationCreate = z.infer<typeof conversationCreateSchema>;

export const conversationUpdateSchema = conversationCreateSchema.extend({
  systemPrompt: z.string().max(20_000).nullable().optional(),
});
export type ConversationUpdate = z.infer<typeof conversationUpdateSchema>;

export const conversationListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  q: z.string().trim().max(200).optional(),
});
export type ConversationListQuery = z.infer<typeof conversationListQuerySchema>;

export const messageRoles = ['user', 'assistant'] as const;
export type MessageRole = (typeof messageRoles)[number];

export const usageSchema = z.object({ inputTokens: z.number().int(), outputTokens: z.number().int() });
export type Usage = z.infer<typeof usageSchema>;

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
  createdAt: z.string(),
});
export type Message = z.infer<typeof messageSchema>;

export const conversationSchema = z.object({
  id: z.string(),
  title: z.string(),
  modelId: z.string(),
  systemPrompt: z.string().nullable(),
  params: modelParamsSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Conversation = z.infer<typeof conversationSchema>;
export type ConversationWithMessages = Conversation & { messages: Message[] };
export type ConversationPage = { items: Conversation[]; nextCursor: string | null };
