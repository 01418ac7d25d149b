import { z } from 'zod';
import { budgetLimits, budgetModes, budgetPeriods, budgetScopes } from './constants.js';
import { safeText } from './safe-text.js';

// The plain values (scopes, periods, modes, limits) live in constants.ts so the portal takes them
// without zod; these schemas use the same consts.

const subject = safeText().trim().min(1).max(budgetLimits.maxSubjectChars);
const limitUsd = z.number().positive().max(budgetLimits.maxUsd);
const limitTokens = z.number().int().positive().max(budgetLimits.maxTokens);

/** A budget as the API returns it. */
export const budgetSchema = z.object({
  id: z.string(),
  scope: z.enum(budgetScopes),
  subject: z.string(),
  period: z.enum(budgetPeriods),
  limitUsd: z.number().optional(),
  limitTokens: z.number().optional(),
  mode: z.enum(budgetModes),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Budget = z.infer<typeof budgetSchema>;

const needsALimit = { message: 'limitUsd or limitTokens is required', path: ['limitUsd'] };

/** `POST /v1/admin/budgets`. */
export const budgetCreateSchema = z
  .object({
    scope: z.enum(budgetScopes),
    subject,
    period: z.enum(budgetPeriods),
    limitUsd: limitUsd.optional(),
    limitTokens: limitTokens.optional(),
    mode: z.enum(budgetModes),
  })
  .strict()
  .refine((b) => b.limitUsd !== undefined || b.limitTokens !== undefined, needsALimit);
export type BudgetCreate = z.infer<typeof budgetCreateSchema>;

/** `PATCH /v1/admin/budgets/:id`: any field; `null` removes a limit (one must remain). */
export const budgetPatchSchema = z
  .object({
    scope: z.enum(budgetScopes).optional(),
    subject: subject.optional(),
    period: z.enum(budgetPeriods).optional(),
    limitUsd: limitUsd.nullable().optional(),
    limitTokens: limitTokens.nullable().optional(),
    mode: z.enum(budgetModes).optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' });
export type BudgetPatch = z.infer<typeof budgetPatchSchema>;

/** One budget that applies to the caller, with what was spent against it this period. */
export const budgetStatusSchema = budgetSchema.omit({ createdAt: true, updatedAt: true }).extend({
  spentUsd: z.number(),
  spentTokens: z.number(),
  /** When the period ends and the budget starts again (ISO 8601, UTC). */
  resetsAt: z.string(),
});
export type BudgetStatus = z.infer<typeof budgetStatusSchema>;

/** `GET /v1/me/usage`: the caller's spend this calendar month (UTC) and the budgets that apply. */
export const meUsageSchema = z.object({
  period: z.literal('month'),
  costUsd: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  budgets: z.array(budgetStatusSchema),
});
export type MeUsage = z.infer<typeof meUsageSchema>;

export const usageGroupBys = ['user', 'group', 'client', 'model', 'day'] as const;
export type UsageGroupBy = (typeof usageGroupBys)[number];

/** A date (`2026-11-01`, midnight UTC) or a date-time with an offset. */
const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]).transform((s) => new Date(s.length === 10 ? `${s}T00:00:00Z` : s));

/**
 * `GET /v1/admin/usage?from&to&groupBy`: ledger rows with `from <= at < to` (default: this calendar
 * month so far), grouped. `group` counts a call once for each group its caller was in.
 */
export const adminUsageQuerySchema = z
  .object({
    from: instant.optional(),
    to: instant.optional(),
    groupBy: z.enum(usageGroupBys).default('user'),
  })
  .strict()
  .refine((q) => !q.from || !q.to || q.from < q.to, { message: 'from must be before to', path: ['from'] })
  .refine((q) => !q.from || !q.to || q.to.getTime() - q.from.getTime() <= 366 * 86_400_000, {
    message: 'at most 366 days at once',
    path: ['to'],
  });
export type AdminUsageQuery = z.infer<typeof adminUsageQuerySchema>;

export const usageRowSchema = z.object({
  key: z.string(),
  calls: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheReadTokens: z.number(),
  cacheWriteTokens: z.number(),
  costUsd: z.number(),
});
export type UsageRow = z.infer<typeof usageRowSchema>;
export const adminUsageSchema = z.object({ from: z.string(), to: z.string(), groupBy: z.enum(usageGroupBys), rows: z.array(usageRowSchema) });
export type AdminUsage = z.infer<typeof adminUsageSchema>;

/** Who a share is for: a group or a batch client. */
export const shareScopes = ['group', 'client'] as const;
export type ShareScope = (typeof shareScopes)[number];

/**
 * A weighted share of a model's quota (requests and tokens per minute): `minPercent` is kept free
 * for the group/client while it has calls waiting, `maxPercent` is the most it may use.
 */
export const shareSchema = z.object({
  id: z.string(),
  scope: z.enum(shareScopes),
  subject: z.string(),
  /** The model whose quota is shared; absent = each model of the catalog. */
  modelId: z.string().optional(),
  minPercent: z.number().optional(),
  maxPercent: z.number().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Share = z.infer<typeof shareSchema>;

const percent = z.number().min(0).max(100);
const shareFields = {
  scope: z.enum(shareScopes),
  subject,
  modelId: safeText().min(1).max(200),
  minPercent: percent,
  maxPercent: percent,
};
const minBelowMax = (s: { minPercent?: number | null; maxPercent?: number | null }) =>
  s.minPercent == null || s.maxPercent == null || s.minPercent <= s.maxPercent;

/** `POST /v1/admin/shares`. */
export const shareCreateSchema = z
  .object({
    scope: shareFields.scope,
    subject: shareFields.subject,
    modelId: shareFields.modelId.optional(),
    minPercent: shareFields.minPercent.optional(),
    maxPercent: shareFields.maxPercent.optional(),
  })
  .strict()
  .refine((s) => s.minPercent !== undefined || s.maxPercent !== undefined, { message: 'minPercent or maxPercent is required', path: ['minPercent'] })
  .refine(minBelowMax, { message: 'minPercent must not exceed maxPercent', path: ['minPercent'] });
export type ShareCreate = z.infer<typeof shareCreateSchema>;

/** `PATCH /v1/admin/shares/:id`: any field; `null` removes `modelId` or a bound (one bound must remain). */
export const sharePatchSchema = z
  .object({
    scope: shareFields.scope.optional(),
    subject: shareFields.subject.optional(),
    modelId: shareFields.modelId.nullable().optional(),
    minPercent: shareFields.minPercent.nullable().optional(),
    maxPercent: shareFields.maxPercent.nullable().optional(),
  })
  .strict()
  .refine((s) => Object.keys(s).length > 0, { message: 'nothing to change' })
  .refine(minBelowMax, { message: 'minPercent must not exceed maxPercent', path: ['minPercent'] });
export type SharePatch = z.infer<typeof sharePatchSchema>;

/** What the audit log records. */
export const auditActions = [
  'budget.create',
  'budget.update',
  'budget.delete',
  'share.create',
  'share.update',
  'share.delete',
  'catalog.reload',
  'webhook.rotate',
  'admin.signin',
  'call.refused',
  'budget.warned',
] as const;
export type AuditAction = (typeof auditActions)[number];

/** One audit entry: who did what to which target, when, with the state before and after. */
export const auditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  /** The principal's `sub` (`system` for the service itself). */
  actor: z.string(),
  action: z.enum(auditActions),
  /** What it acted on, e.g. `budget:<id>`, `model:<id>`, `job:<id>`. */
  target: z.string().optional(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  details: z.unknown().optional(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** `GET /v1/admin/audit?limit&cursor&action`: newest first. */
export const auditQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
    action: z.enum(auditActions).optional(),
  })
  .strict();
export type AuditQuery = z.infer<typeof auditQuerySchema>;
export type AuditPage = { items: AuditEntry[]; nextCursor: string | null };
