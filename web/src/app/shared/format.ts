/** Formatting of figures for the user's language: money, counts, ordinals, times. */

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

/** A date and time, short date and time to the second. */
export function formatTime(iso: string, lang: string): string {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso));
}
