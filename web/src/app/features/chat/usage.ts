import type { PublicModel, Usage } from '@switchboard/contracts';

/** Cost in USD from the catalog prices (per 1,000 tokens). */
export function costOf(usage: Usage | null | undefined, model: PublicModel | undefined): number | null {
  if (!usage || !model) return null;
  return (usage.inputTokens / 1000) * model.price.inputPer1k + (usage.outputTokens / 1000) * model.price.outputPer1k;
}

export function formatCost(cost: number | null, lang: string): string {
  if (cost === null) return '—';
  return new Intl.NumberFormat(lang, {
    style: 'currency',
    currency: 'USD',
    minimumFractionDigits: cost > 0 && cost < 0.01 ? 4 : 2,
    maximumFractionDigits: cost > 0 && cost < 0.01 ? 4 : 2,
  }).format(cost);
}

export function formatCount(n: number, lang: string): string {
  return new Intl.NumberFormat(lang).format(n);
}

/** English ordinal ("3rd"); other languages get the plain number (their phrasing carries the order). */
export function ordinal(n: number, lang: string): string {
  if (!lang.startsWith('en')) return String(n);
  const rule = new Intl.PluralRules('en', { type: 'ordinal' }).select(n);
  const suffix = { one: 'st', two: 'nd', few: 'rd', other: 'th' }[rule as 'one' | 'two' | 'few' | 'other'] ?? 'th';
  return `${n}${suffix}`;
}
