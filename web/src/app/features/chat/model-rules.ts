import type { EffortLevel, PublicModel } from '@switchboard/contracts';

/** The parts of a model's catalog rules the portal's settings follow (defaults for older servers). */
export type PortalRules = {
  exclusiveSampling: boolean;
  topK: { min: number; max: number } | false;
  thinking: { minBudget: number } | false;
  /** `adaptive`: the model decides how much to think; the budget only makes room for it. */
  thinkingMode: 'budget' | 'adaptive';
  /** false: the model takes no temperature, top P or top K. */
  sampling: boolean;
  /** The model thinks on every answer; the checkbox only shows its thinking (and sizes its room). */
  alwaysThinks: boolean;
  /** The `output_config.effort` levels the model takes and the one it uses when none is set; false: none (the server refuses any). */
  effort: { levels: EffortLevel[]; default: EffortLevel } | false;
};

export function portalRules(model: PublicModel | undefined): PortalRules {
  const r = (model?.rules ?? {}) as Partial<PortalRules>;
  return {
    exclusiveSampling: r.exclusiveSampling ?? false,
    topK: r.topK === undefined ? { min: 0, max: 500 } : r.topK,
    thinking: r.thinking ?? false,
    thinkingMode: r.thinkingMode ?? 'budget',
    sampling: r.sampling ?? true,
    alwaysThinks: r.alwaysThinks ?? false,
    effort: effortOf(model),
  };
}

/** The model's effort rule; older servers send no default, and the model's own level was high for every model then. */
function effortOf(model: PublicModel | undefined): PortalRules['effort'] {
  const effort = (model?.rules as { effort?: { levels: EffortLevel[]; default?: EffortLevel } | false } | undefined)?.effort;
  return effort ? { ...effort, default: effort.default ?? 'high' } : false;
}

/** The stored effort if this model takes it, else null (its default): a level kept from another model would be refused. */
export function selectableEffort(rules: PortalRules, effort: EffortLevel | null | undefined): EffortLevel | null {
  return rules.effort && effort && rules.effort.levels.includes(effort) ? effort : null;
}
