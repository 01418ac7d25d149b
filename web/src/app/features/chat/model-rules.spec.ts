import { knownModelRules, modelRulesSchema, type PublicModel } from '@switchboard/contracts';
import { selectableEffort, portalRules } from './model-rules';

/** A model as `GET /v1/models` lists it: the catalog's rules for its id. */
const model = (id: string) => ({ id, rules: modelRulesSchema.parse(knownModelRules(id)) }) as PublicModel;
const opus45 = portalRules(model('anthropic.claude-opus-4-5-20251101-v1:0'));
const opus47 = portalRules(model('global.anthropic.claude-opus-4-7'));
const sonnet45 = portalRules(model('anthropic.claude-sonnet-4-5-20250929-v1:0'));

describe('model rules in the settings dialog', () => {
  it('offers the effort levels the model lists, and none for a model without effort or an older server', () => {
    expect(opus45.effort).toEqual({ levels: ['low', 'medium', 'high'], default: 'high', beta: 'effort-2025-11-24' });
    expect(opus47.effort).toEqual({ levels: ['low', 'medium', 'high', 'xhigh', 'max'], default: 'high' });
    expect(portalRules(model('global.anthropic.claude-opus-5-5')).effort).toMatchObject({ default: 'medium' });
    expect(sonnet45.effort).toBe(false);
    expect(portalRules({ id: 'old', rules: { thinking: { minBudget: 1024 } } } as unknown as PublicModel).effort).toBe(false);
    // A server from before effort.default: the model's own level is high.
    expect(portalRules({ id: 'old', rules: { effort: { levels: ['low', 'high'] } } } as unknown as PublicModel).effort).toEqual({ levels: ['low', 'high'], default: 'high' });
    expect(portalRules(undefined).effort).toBe(false);
  });

  it('tells a model that thinks on every answer (the Claude 5 models) from one that thinks when asked', () => {
    expect(portalRules(model('global.anthropic.claude-opus-5-5')).alwaysThinks).toBe(true);
    expect(opus47.alwaysThinks).toBe(false);
    expect(portalRules(undefined).alwaysThinks).toBe(false);
  });

  it('keeps a chosen level the model takes; Default, another model’s level or a model without effort send nothing', () => {
    expect(selectableEffort(opus47, 'xhigh')).toBe('xhigh');
    expect(selectableEffort(opus45, 'low')).toBe('low');
    expect(selectableEffort(opus45, 'xhigh')).toBeNull();
    expect(selectableEffort(opus47, null)).toBeNull();
    expect(selectableEffort(opus47, undefined)).toBeNull();
    expect(selectableEffort(sonnet45, 'high')).toBeNull();
  });
});
