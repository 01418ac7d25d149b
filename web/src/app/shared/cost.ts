import type { PublicModel, Usage } from '@switchboard/contracts';

/** Cost in USD from the catalog prices (per 1,000 tokens). */
export function costOf(usage: Usage | null | undefined, model: PublicModel | undefined): number | null {
  if (!usage || !model) return null;
  return (usage.inputTokens / 1000) * model.price.inputPer1k + (usage.outputTokens / 1000) * model.price.outputPer1k;
}
