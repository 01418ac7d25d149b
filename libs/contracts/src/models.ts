import { z } from 'zod';

/** One entry of the model catalog (`MODELS_FILE`). */
export const modelEntrySchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  vision: z.boolean().default(false),
  documents: z.boolean().default(false),
  maxOutputTokens: z.number().int().positive(),
  contextWindow: z.number().int().positive(),
  quota: z.object({
    requestsPerMinute: z.number().int().positive(),
    tokensPerMinute: z.number().int().positive(),
  }),
  price: z.object({ inputPer1k: z.number().nonnegative(), outputPer1k: z.number().nonnegative() }),
  default: z.boolean().optional(),
});
export type ModelEntry = z.infer<typeof modelEntrySchema>;

export const modelCatalogSchema = z
  .array(modelEntrySchema)
  .min(1)
  .refine((models) => new Set(models.map((m) => m.id)).size === models.length, 'model ids must be unique')
  .refine((models) => models.filter((m) => m.default).length <= 1, 'at most one model may be the default');
export type ModelCatalog = z.infer<typeof modelCatalogSchema>;

/** What `GET /v1/models` returns per model: the catalog entry without quota internals. */
export type PublicModel = Omit<ModelEntry, 'quota'>;

export function defaultModel(catalog: readonly ModelEntry[]): ModelEntry {
  return catalog.find((m) => m.default) ?? catalog[0]!;
}
