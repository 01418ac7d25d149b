import { z } from 'zod';
import { safeText } from './safe-text.js';

/** Languages preset prompts come in. */
export const promptLocales = ['en', 'zh-CN'] as const;
export type PromptLocale = (typeof promptLocales)[number];

/** Who a prompt belongs to: a built-in preset or the caller's own saved prompt. */
export const promptOwners = ['system', 'me'] as const;
export type PromptOwner = (typeof promptOwners)[number];

/**
 * An entry of `GET /v1/prompts`: `{ id, title, systemPrompt, tags }` plus `locale` and `owner`.
 * Built-in presets have stable ids (`preset:<slug>`), the same across locales; own prompts have uuids
 * and `createdAt`/`updatedAt`.
 */
export const promptSchema = z.object({
  id: z.string(),
  title: z.string(),
  systemPrompt: z.string(),
  tags: z.array(z.string()),
  locale: z.enum(promptLocales).nullable(),
  owner: z.enum(promptOwners),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
});
export type Prompt = z.infer<typeof promptSchema>;

/** `GET /v1/prompts?locale=en|zh-CN` (default from Accept-Language, else en). */
export const promptListQuerySchema = z.object({ locale: z.enum(promptLocales).optional() });
export type PromptListQuery = z.infer<typeof promptListQuerySchema>;

const tag = safeText().trim().min(1).max(40);

/** `POST /v1/prompts` → 201 Prompt (owner "me"). */
export const promptCreateSchema = z.object({
  title: safeText().trim().min(1).max(200),
  systemPrompt: safeText().min(1).max(20_000),
  tags: z.array(tag).max(20).default([]),
  locale: z.enum(promptLocales).nullable().optional(),
});
export type PromptCreate = z.infer<typeof promptCreateSchema>;

/** `PATCH /v1/prompts/:id` (own prompts only; presets answer 403). */
export const promptUpdateSchema = z.object({
  title: safeText().trim().min(1).max(200).optional(),
  systemPrompt: safeText().min(1).max(20_000).optional(),
  tags: z.array(tag).max(20).optional(),
  locale: z.enum(promptLocales).nullable().optional(),
});
export type PromptUpdate = z.infer<typeof promptUpdateSchema>;
