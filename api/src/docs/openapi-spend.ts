import { z } from 'zod';
import {
  adminUsageSchema,
  auditEntrySchema,
  budgetCreateSchema,
  budgetPatchSchema,
  budgetSchema,
  meUsageSchema,
  shareCreateSchema,
  sharePatchSchema,
  shareSchema,
} from '@switchboard/contracts';

// Issue 15: usage, budgets, shares and the audit log. Kept apart from openapi.ts so both grow without clashing.
const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
const outSchema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (s: object, example?: unknown) => ({ content: { 'application/json': { schema: s, ...(example !== undefined ? { example } : {}) } } });
const err = (status: number, code: string, message: string) => ({
  [String(status)]: { description: message, ...json(ref('ErrorBody'), { error: { code, message }, requestId: '6c1d2f0e-1b7a-4a43-8f55-2b9d0c3e4f51' }) },
});
const adminErrors = {
  ...err(401, 'unauthorized', 'A valid bearer token is required'),
  ...err(403, 'forbidden', 'Only members of "admin" may do this'),
};
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const budgetExample = {
  id: '5b8d0a7e-8a44-4a5c-9c3e-0d4f1f6c2b11',
  scope: 'group',
  subject: 'support',
  period: 'month',
  limitUsd: 500,
  mode: 'block',
  createdAt: '2026-11-01T08:00:00.000Z',
  updatedAt: '2026-11-01T08:00:00.000Z',
};
const shareExample = {
  id: '9a1f3e20-6c5b-4f0e-8d7a-2b3c4d5e6f70',
  scope: 'client',
  subject: 'nightly-batch',
  modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  maxPercent: 30,
  createdAt: '2026-11-01T08:00:00.000Z',
  updatedAt: '2026-11-01T08:00:00.000Z',
};

export const spendSchemas = {
  Budget: outSchema(budgetSchema),
  BudgetCreate: schema(budgetCreateSchema),
  BudgetPatch: schema(budgetPatchSchema),
  Share: outSchema(shareSchema),
  ShareCreate: schema(shareCreateSchema),
  SharePatch: schema(sharePatchSchema),
  MeUsage: outSchema(meUsageSchema),
  AdminUsage: outSchema(adminUsageSchema),
  AuditEntry: outSchema(auditEntrySchema),
};

export const spendPaths = {
  '/v1/me/usage': {
    get: {
      tags: ['usage'],
      summary: 'Your spend this calendar month (UTC) and every budget that applies to you (yours, your groups’, your client’s) with what was spent against it',
      responses: {
        200: json(ref('MeUsage'), {
          period: 'month',
          costUsd: 12.4,
          inputTokens: 2_100_000,
          outputTokens: 410_000,
          budgets: [{ ...budgetExample, createdAt: undefined, updatedAt: undefined, spentUsd: 402.5, spentTokens: 61_000_000, resetsAt: '2026-12-01T00:00:00.000Z' }],
        }),
        ...err(401, 'unauthorized', 'A valid bearer token is required'),
      },
    },
  },
  '/v1/admin/usage': {
    get: {
      tags: ['admin'],
      summary: 'Usage ledger grouped by user, group, client, model or day (admins). `Accept: text/csv` downloads it as CSV',
      description:
        'One ledger row is written per Bedrock call (chat answers, history compression, summarize chunks and reduces, titles), at the catalog price of that moment. ' +
        '`from` (inclusive) and `to` (exclusive) are dates (`2026-11-01`, midnight UTC) or date-times with an offset; default: this calendar month so far; at most 366 days. ' +
        '`group` counts a call once for each group its caller was in. CSV: RFC 4180, CRLF lines, a header row; text cells starting with `=`, `+`, `-` or `@` get a leading apostrophe.',
      parameters: [
        { name: 'from', in: 'query', schema: { type: 'string' }, example: '2026-11-01' },
        { name: 'to', in: 'query', schema: { type: 'string' }, example: '2026-12-01' },
        { name: 'groupBy', in: 'query', schema: { type: 'string', enum: ['user', 'group', 'client', 'model', 'day'], default: 'user' } },
      ],
      responses: {
        200: {
          description: 'JSON, or CSV with `Accept: text/csv`',
          content: {
            'application/json': {
              schema: ref('AdminUsage'),
              example: { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', groupBy: 'group', rows: [{ key: 'support', calls: 1830, inputTokens: 2_400_000, outputTokens: 380_000, cacheReadTokens: 900_000, cacheWriteTokens: 120_000, costUsd: 13.32 }] },
            },
            'text/csv': { schema: { type: 'string' }, example: 'group,calls,inputTokens,outputTokens,cacheReadTokens,cacheWriteTokens,costUsd\r\nsupport,1830,2400000,380000,900000,120000,13.32\r\n' },
          },
        },
        ...adminErrors,
        ...err(400, 'validation_failed', 'Invalid request: groupBy: Invalid option'),
      },
    },
  },
  '/v1/admin/budgets': {
    get: { tags: ['admin'], summary: 'Every budget (admins)', responses: { 200: json({ type: 'object', properties: { items: { type: 'array', items: ref('Budget') } } }, { items: [budgetExample] }), ...adminErrors } },
    post: {
      tags: ['admin'],
      summary: 'Create a budget for a user (`sub`), a group or a batch client (`client_id`) (admins)',
      description:
        'Period `day` or `month`, calendar UTC. `limitUsd` and/or `limitTokens` (every token billed: input, output, cache reads and writes). ' +
        '`block`: a call whose worst case (estimated input at the highest input price plus its maxTokens of output) no longer fits the settled spend is refused — a chat ends with `chat:error` `budget_exceeded`, a job fails with that code, a job submission that cannot fit even its input is answered 402. ' +
        '`warn`: calls go through, flagged in the ledger and the audit log. Takes effect at once on every node and worker.',
      requestBody: json(ref('BudgetCreate'), { scope: 'group', subject: 'support', period: 'month', limitUsd: 500, mode: 'block' }),
      responses: { 201: json(ref('Budget'), budgetExample), ...adminErrors, ...err(400, 'validation_failed', 'Invalid request: limitUsd: limitUsd or limitTokens is required') },
    },
  },
  '/v1/admin/budgets/{id}': {
    parameters: [idParam],
    patch: {
      tags: ['admin'],
      summary: 'Change a budget; `null` removes a limit (one must remain) (admins)',
      requestBody: json(ref('BudgetPatch'), { limitUsd: 750 }),
      responses: { 200: json(ref('Budget'), { ...budgetExample, limitUsd: 750 }), ...adminErrors, ...err(404, 'not_found', 'Budget not found') },
    },
    delete: { tags: ['admin'], summary: 'Delete a budget (admins)', responses: { 204: { description: 'Deleted' }, ...adminErrors, ...err(404, 'not_found', 'Budget not found') } },
  },
  '/v1/admin/shares': {
    get: { tags: ['admin'], summary: 'Every weighted share of a model’s quota (admins)', responses: { 200: json({ type: 'object', properties: { items: { type: 'array', items: ref('Share') } } }, { items: [shareExample] }), ...adminErrors } },
    post: {
      tags: ['admin'],
      summary: 'Give a group or batch client a guaranteed (`minPercent`) and/or maximum (`maxPercent`) share of a model’s requests and tokens per minute (admins)',
      description:
        'Without `modelId` the share applies to each model. The governor honours shares before users take turns: a member of a share under its minimum goes first, ' +
        'others leave the minimum free while the share has calls waiting, and a share at its maximum waits for its own calls to leave the window. Chats still go before batch calls within a share.',
      requestBody: json(ref('ShareCreate'), { scope: 'client', subject: 'nightly-batch', maxPercent: 30 }),
      responses: { 201: json(ref('Share'), shareExample), ...adminErrors, ...err(400, 'validation_failed', 'Invalid request: minPercent: minPercent must not exceed maxPercent') },
    },
  },
  '/v1/admin/shares/{id}': {
    parameters: [idParam],
    patch: {
      tags: ['admin'],
      summary: 'Change a share; `null` removes `modelId` or a bound (one bound must remain) (admins)',
      requestBody: json(ref('SharePatch'), { maxPercent: 20 }),
      responses: { 200: json(ref('Share'), { ...shareExample, maxPercent: 20 }), ...adminErrors, ...err(404, 'not_found', 'Share not found') },
    },
    delete: { tags: ['admin'], summary: 'Delete a share (admins)', responses: { 204: { description: 'Deleted' }, ...adminErrors, ...err(404, 'not_found', 'Share not found') } },
  },
  '/v1/admin/audit': {
    get: {
      tags: ['admin'],
      summary: 'The append-only audit log, newest first (admins)',
      description:
        'Actions: `budget.create|update|delete`, `share.create|update|delete` (with before/after), `catalog.reload`, `webhook.rotate` (never the secrets), ' +
        '`admin.signin` (an admin token first seen on any node), `call.refused` (details.code `budget_exceeded` or `model_not_allowed`), `budget.warned`.',
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
        { name: 'cursor', in: 'query', schema: { type: 'string' } },
        { name: 'action', in: 'query', schema: { type: 'string' }, example: 'budget.update' },
      ],
      responses: {
        200: json(
          { type: 'object', required: ['items', 'nextCursor'], properties: { items: { type: 'array', items: ref('AuditEntry') }, nextCursor: { type: ['string', 'null'] } } },
          { items: [{ id: '42', at: '2026-11-03T09:12:00.000Z', actor: 'a1b2c3', action: 'budget.update', target: `budget:${budgetExample.id}`, before: budgetExample, after: { ...budgetExample, limitUsd: 750 } }], nextCursor: 'NDE' },
        ),
        ...adminErrors,
      },
    },
  },
};
