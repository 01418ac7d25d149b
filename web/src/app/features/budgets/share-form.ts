import type { ShareCreate, ShareScope } from '@switchboard/contracts';
import { budgetLimits } from '@switchboard/contracts/constants';

export const shareScopes: readonly ShareScope[] = ['group', 'client'];

/** What the share form holds: percentages as typed (empty = no bound), model '' = every model. */
export type ShareFormValue = { scope: ShareScope; subject: string; modelId: string; minPercent: string | number | null; maxPercent: string | number | null };

/** i18n keys under `shares.errors.` per field. */
export type ShareFormErrors = Partial<Record<'subject' | 'minPercent' | 'maxPercent' | 'bounds', string>>;

export const emptyShareForm = (): ShareFormValue => ({ scope: 'group', subject: '', modelId: '', minPercent: null, maxPercent: null });

const blank = (v: string | number | null): boolean => v === null || String(v).trim() === '';

/** Checks the form the way the API will (0–100 %, at least one bound, min ≤ max) and builds the body. */
export function readShareForm(v: ShareFormValue): { body: ShareCreate; errors: null } | { body: null; errors: ShareFormErrors } {
  const errors: ShareFormErrors = {};
  const subject = v.subject.trim();
  if (!subject) errors.subject = 'subjectRequired';
  else if (subject.length > budgetLimits.maxSubjectChars || /\p{Cc}/u.test(subject)) errors.subject = 'subjectInvalid';
  const percent = (raw: string | number | null, field: 'minPercent' | 'maxPercent'): number | undefined => {
    if (blank(raw)) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || n > 100) errors[field] = 'percentRange';
    return n;
  };
  const minPercent = percent(v.minPercent, 'minPercent');
  const maxPercent = percent(v.maxPercent, 'maxPercent');
  if (minPercent === undefined && maxPercent === undefined) errors.bounds = 'needBound';
  else if (!errors.minPercent && !errors.maxPercent && minPercent !== undefined && maxPercent !== undefined && minPercent > maxPercent) errors.minPercent = 'minAboveMax';
  if (Object.keys(errors).length) return { body: null, errors };
  return {
    body: {
      scope: v.scope,
      subject,
      ...(v.modelId ? { modelId: v.modelId } : {}),
      ...(minPercent !== undefined ? { minPercent } : {}),
      ...(maxPercent !== undefined ? { maxPercent } : {}),
    },
    errors: null,
  };
}
