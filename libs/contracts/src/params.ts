import { z } from 'zod';

/** Model parameters a chat or conversation may set (topK goes to Bedrock as an additional field). */
export const modelParamsSchema = z.object({
  temperature: z.number().min(0).max(1).optional(),
  topP: z.number().min(0).max(1).optional(),
  topK: z.number().int().min(0).max(500).optional(),
  maxTokens: z.number().int().min(1).max(128_000).optional(),
});
export type ModelParams = z.infer<typeof modelParamsSchema>;
