import { callCostUsd } from '@switchboard/contracts/constants';
import type { PublicModel, Usage } from '@switchboard/contracts';

/** Cost in USD from the catalog prices (the server's formula, cache tokens included). */
export function costOf(usage: Usage | null | undefined, model: PublicModel | undefined): number | null {
  if (!usage || !model) return null;
  return callCostUsd(model.price, usage);
}
