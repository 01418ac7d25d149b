import { z } from 'zod';

/**
 * How many tokens the model may spend on an answer, thinking included (`output_config.effort`):
 * `high` is the model's own default, `xhigh` and `max` only where its catalog rules list them.
 */
export const effortLevels = ['low', 'medium', 'high', 'xhigh', 'max'] as const;
export type EffortLevel = (typeof effortLevels)[number];

/** Model parameters a chat or conversation may set (topK goes to Bedrock as an additional field). */
export const modelParamsSchema = z.object({
  temperature: z.number().min(0).max(1).optional(),
  topP: z.number().min(0).max(1).optional(),
  topK: z.number().int().min(0).max(500).optional(),
  maxTokens: z.number().int().min(1).max(128_000).optional(),
  /**
   * Extended thinking budget in tokens (models whose catalog rules allow thinking; at least the
   * model's minimum). The answer's maxTokens comes on top of it. null = off.
   */
  thinkingBudget: z.number().int().min(1).max(128_000).nullable().optional(),
  /** Effort (models whose catalog rules list the level); null = the model's default. */
  effort: z.enum(effortLevels).nullable().optional(),
  /** How many recent messages of the branch are sent to the model (the new user message included). */
  historyMessages: z.number().int().min(1).max(200).optional(),
  /**
   * Estimated tokens of history above which the older part is summarized (compressed);
   * null or 0 = off. Must be below the model's context window.
   */
  compressThreshold: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .refine((v) => v === 0 || v >= 500, 'compressThreshold must be 0 (off) or at least 500')
    .nullable()
    .optional(),
});
export type ModelParams = z.infer<typeof modelParamsSchema>;
