import type { PublicModel } from '@switchboard/contracts';

/** The parts of a model's catalog rules the portal's settings follow (defaults for older servers). */
export type PortalRules = {
  exclusiveSampling: boolean;
  topK: { min: number; max: number } | false;
  thinking: { minBudget: number } | false;
};

export function portalRules(model: PublicModel | undefined): PortalRules {
  const r = (model?.rules ?? {}) as Partial<PortalRules>;
  return {
    exclusiveSampling: r.exclusiveSampling ?? false,
    topK: r.topK === undefined ? { min: 0, max: 500 } : r.topK,
    thinking: r.thinking ?? false,
  };
}
