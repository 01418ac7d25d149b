import type { PublicModel } from '@switchboard/contracts';

/** The parts of a model's catalog rules the portal's settings follow (defaults for older servers). */
export type PortalRules = {
  exclusiveSampling: boolean;
  topK: { min: number; max: number } | false;
  thinking: { minBudget: number } | false;
  /** `adaptive`: the model decides how much to think; the budget only makes room for it. */
  thinkingMode: 'budget' | 'adaptive';
  /** false: the model takes no temperature, top P or top K. */
  sampling: boolean;
};

export function portalRules(model: PublicModel | undefined): PortalRules {
  const r = (model?.rules ?? {}) as Partial<PortalRules>;
  return {
    exclusiveSampling: r.exclusiveSampling ?? false,
    topK: r.topK === undefined ? { min: 0, max: 500 } : r.topK,
    thinking: r.thinking ?? false,
    thinkingMode: r.thinkingMode ?? 'budget',
    sampling: r.sampling ?? true,
  };
}
