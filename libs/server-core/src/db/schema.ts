import { getTableColumns, sql } from 'drizzle-orm';
import { type AnyPgColumn, bigint, bigserial, customType, doublePrecision, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { Block, ErrorInfo, ModelParams, Usage } from '@switchboard/contracts';

/** Full-text search vector; written by Postgres from a generated-column expression. */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};

export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey(),
    owner: text('owner').notNull(),
    title: text('title').notNull(),
    modelId: text('model_id').notNull(),
    systemPrompt: text('system_prompt'),
    params: jsonb('params').$type<ModelParams>().notNull().default({}),
    /** The current branch's last message; null = the newest message (linear conversations). */
    activeLeafId: uuid('active_leaf_id'),
    /** History compression: summary of the branch up to and including summaryUptoMessageId. */
    summary: text('summary'),
    summaryUptoMessageId: uuid('summary_upto_message_id'),
    summaryCovers: integer('summary_covers'),
    summaryAt: timestamp('summary_at', { withTimezone: true, mode: 'date' }),
    /** Tokens and USD of every compression call so far (they are part of the conversation's cost). */
    compressInputTokens: bigint('compress_input_tokens', { mode: 'number' }).notNull().default(0),
    compressOutputTokens: bigint('compress_output_tokens', { mode: 'number' }).notNull().default(0),
    compressCost: doublePrecision('compress_cost').notNull().default(0),
    titleSearch: tsvector('title_search').generatedAlwaysAs(sql`to_tsvector('simple', coalesce(title, ''))`),
    ...timestamps,
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('conversations_owner_updated_idx').on(t.owner, t.updatedAt.desc(), t.id.desc()),
    index('conversations_title_search_idx').using('gin', t.titleSearch),
  ],
);

export const messageStatuses = ['complete', 'streaming', 'cancelled', 'failed'] as const;
export type MessageStatus = (typeof messageStatuses)[number];

export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey(),
    // Insertion order within a conversation; timestamps can tie.
    position: bigint('position', { mode: 'number' }).generatedAlwaysAsIdentity(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    owner: text('owner').notNull(),
    role: text('role', { enum: ['user', 'assistant'] }).notNull(),
    content: jsonb('content').$type<Block[]>().notNull(),
    modelId: text('model_id'),
    jobId: uuid('job_id'),
    status: text('status', { enum: messageStatuses }).notNull().default('complete'),
    stopReason: text('stop_reason'),
    usage: jsonb('usage').$type<Usage>(),
    /** Assistant messages: USD at the catalog's prices when answered. */
    cost: doublePrecision('cost'),
    /** Assistant messages: the model's extended thinking (shown collapsed; never sent back to the model). */
    reasoning: text('reasoning'),
    /** The message this one follows; siblings are branches (regenerate, edit and resend). */
    parentId: uuid('parent_id'),
    clientMessageId: text('client_message_id'),
    // Only text blocks: base64 of images and documents must not reach the index.
    contentSearch: tsvector('content_search').generatedAlwaysAs(
      sql`to_tsvector('simple', jsonb_path_query_array(content, 'strict $[*] ? (@.type == "text").text'))`,
    ),
    ...timestamps,
  },
  (t) => [
    index('messages_conversation_idx').on(t.conversationId, t.position),
    index('messages_content_search_idx').using('gin', t.contentSearch),
    uniqueIndex('messages_owner_client_id_idx')
      .on(t.owner, t.clientMessageId)
      .where(sql`${t.clientMessageId} is not null`),
  ],
);

/**
 * A job waiting or running, with literal values, not parameters: a prepared statement's generic plan
 * can prove a partial index's predicate (jobs_open_idx) only from them.
 */
const statusIsOpen = (status: AnyPgColumn) => sql`${status} in ('queued', 'active')`;

export const jobTypes = ['chat', 'summarize'] as const;
export const jobStatuses = ['queued', 'active', 'completed', 'failed', 'cancelled'] as const;
export type JobType = (typeof jobTypes)[number];
export type JobStatus = (typeof jobStatuses)[number];

/** Every job, chat or batch: the system of record that survives a Redis loss. */
export const jobs = pgTable(
  'jobs',
  {
    id: uuid('id').primaryKey(),
    owner: text('owner').notNull(),
    type: text('type', { enum: jobTypes }).notNull(),
    status: text('status', { enum: jobStatuses }).notNull().default('queued'),
    modelId: text('model_id').notNull(),
    conversationId: uuid('conversation_id').references(() => conversations.id, { onDelete: 'cascade' }),
    /** Chat: the assistant message this job writes. */
    messageId: uuid('message_id'),
    input: jsonb('input').$type<Record<string, unknown>>(),
    result: jsonb('result').$type<Record<string, unknown>>(),
    usage: jsonb('usage').$type<Usage>(),
    error: jsonb('error').$type<ErrorInfo>(),
    progress: integer('progress'),
    idempotencyKey: text('idempotency_key'),
    /** sha256 of the request's canonical form: the same key with another body is refused, not replayed. */
    idempotencyFingerprint: text('idempotency_fingerprint'),
    requestId: text('request_id'),
    /** Batch jobs: where to POST the finished job, and whether that delivery is still owed. */
    callbackUrl: text('callback_url'),
    callbackStatus: text('callback_status', { enum: ['pending', 'delivered', 'failed'] }),
    /** Delivery attempts of the callback so far (each is in webhook_deliveries). */
    callbackAttempts: integer('callback_attempts').notNull().default(0),
    /** Bulk submissions: the batch, the item's place in it and the client's id for it. */
    batchId: uuid('batch_id'),
    batchIndex: integer('batch_index'),
    customId: text('custom_id'),
    /** Retention (or `DELETE …?purge=true`): when the text/documents and the result were erased. */
    inputPurgedAt: timestamp('input_purged_at', { withTimezone: true, mode: 'date' }),
    resultPurgedAt: timestamp('result_purged_at', { withTimezone: true, mode: 'date' }),
    /** Who submitted it, as budgets and shares see them: the caller's groups then, person or client. */
    principalGroups: text('principal_groups').array(),
    principalKind: text('principal_kind', { enum: ['person', 'client'] }),
    ...timestamps,
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('jobs_owner_created_idx').on(t.owner, t.createdAt.desc(), t.id.desc()),
    // Read by nothing since jobs_open_idx (migration 0008); kept one release, so the previous image
    // (a rollout's old tasks, a rollback) still finds its open jobs through it. Drop it in the next migration.
    index('jobs_status_idx').on(t.status),
    // Open jobs only (a finished job leaves it): a user's open chats at each send, the reconcilers'
    // sweeps and a conversation's open chats read it in time that does not grow with history.
    index('jobs_open_idx').on(t.owner, t.type).where(statusIsOpen(t.status)),
    // Deleting a conversation deletes its jobs (the foreign key cascades): without it, a scan of all jobs.
    index('jobs_conversation_idx').on(t.conversationId).where(sql`${t.conversationId} is not null`),
    uniqueIndex('jobs_owner_idempotency_idx')
      .on(t.owner, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    uniqueIndex('jobs_batch_item_idx').on(t.batchId, t.batchIndex).where(sql`${t.batchId} is not null`),
    index('jobs_batch_status_idx').on(t.batchId, t.status).where(sql`${t.batchId} is not null`),
  ],
);

/** A job still waiting or running: the predicate of jobs_open_idx, for queries that should use it. */
export const jobIsOpen = statusIsOpen(jobs.status);

export const batchStatuses = ['queued', 'active', 'completed', 'cancelled'] as const;

/** A bulk submission (`POST /v1/batches`): its items are summarize jobs carrying its id. */
export const batches = pgTable(
  'batches',
  {
    id: uuid('id').primaryKey(),
    owner: text('owner').notNull(),
    status: text('status', { enum: batchStatuses }).notNull().default('queued'),
    itemCount: integer('item_count').notNull(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    idempotencyKey: text('idempotency_key'),
    idempotencyFingerprint: text('idempotency_fingerprint'),
    callbackUrl: text('callback_url'),
    callbackStatus: text('callback_status', { enum: ['pending', 'delivered', 'failed'] }),
    callbackAttempts: integer('callback_attempts').notNull().default(0),
    requestId: text('request_id'),
    ...timestamps,
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('batches_owner_created_idx').on(t.owner, t.createdAt.desc(), t.id.desc()),
    uniqueIndex('batches_owner_idempotency_idx')
      .on(t.owner, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
  ],
);

/** One row per callback delivery attempt (a job's or a batch's). */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: uuid('job_id'),
    batchId: uuid('batch_id'),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** The receiver's HTTP status; null when no answer came (refused, timeout, reset). */
    status: integer('status'),
    durationMs: integer('duration_ms').notNull(),
    error: text('error'),
  },
  (t) => [index('webhook_deliveries_job_idx').on(t.jobId, t.at).where(sql`${t.jobId} is not null`)],
);

/** Per-principal secret that signs job callbacks (HMAC-SHA256); kept readable as it signs. */
export const webhookSecrets = pgTable('webhook_secrets', {
  owner: text('owner').primaryKey(),
  secret: text('secret').notNull(),
  ...timestamps,
});

/** People's own saved prompts (the built-in presets live in code). */
export const prompts = pgTable(
  'prompts',
  {
    id: uuid('id').primaryKey(),
    owner: text('owner').notNull(),
    title: text('title').notNull(),
    systemPrompt: text('system_prompt').notNull(),
    tags: jsonb('tags').$type<string[]>().notNull().default([]),
    locale: text('locale'),
    ...timestamps,
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('prompts_owner_idx').on(t.owner, t.createdAt)],
);

export const ledgerPurposes = ['chat', 'compress', 'summarize', 'summarize_chunk', 'summarize_reduce', 'title'] as const;
export type LedgerPurpose = (typeof ledgerPurposes)[number];

/**
 * One row per Bedrock call, written once: `call_key` is the call's reservation in the governor
 * (unique per admitted call) and its purpose, so a repeated write is a no-op (`ON CONFLICT DO NOTHING`).
 */
export const usageLedger = pgTable(
  'usage_ledger',
  {
    callKey: text('call_key').primaryKey(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    principal: text('principal').notNull(),
    principalKind: text('principal_kind', { enum: ['person', 'client'] }).notNull(),
    groups: text('groups').array().notNull().default(sql`'{}'`),
    modelId: text('model_id').notNull(),
    purpose: text('purpose', { enum: ledgerPurposes }).notNull(),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    cacheReadTokens: bigint('cache_read_tokens', { mode: 'number' }).notNull().default(0),
    cacheWriteTokens: bigint('cache_write_tokens', { mode: 'number' }).notNull().default(0),
    /** USD at the catalog's prices when the call was made. */
    costUsd: doublePrecision('cost_usd').notNull().default(0),
    jobId: text('job_id'),
    conversationId: uuid('conversation_id'),
    /** `warn`: the call went over a `warn` budget and was let through. */
    budgetFlag: text('budget_flag'),
  },
  (t) => [index('usage_ledger_at_idx').on(t.at), index('usage_ledger_principal_at_idx').on(t.principal, t.at)],
);

export const budgets = pgTable(
  'budgets',
  {
    id: uuid('id').primaryKey(),
    scope: text('scope', { enum: ['user', 'group', 'client'] }).notNull(),
    subject: text('subject').notNull(),
    period: text('period', { enum: ['day', 'month'] }).notNull(),
    limitUsd: doublePrecision('limit_usd'),
    limitTokens: bigint('limit_tokens', { mode: 'number' }),
    mode: text('mode', { enum: ['block', 'warn'] }).notNull(),
    ...timestamps,
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('budgets_subject_idx').on(t.scope, t.subject)],
);

export const quotaShares = pgTable('quota_shares', {
  id: uuid('id').primaryKey(),
  scope: text('scope', { enum: ['group', 'client'] }).notNull(),
  subject: text('subject').notNull(),
  modelId: text('model_id'),
  minPercent: doublePrecision('min_percent'),
  maxPercent: doublePrecision('max_percent'),
  ...timestamps,
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** Append-only (a trigger refuses UPDATE and DELETE): who did what, when, before and after. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target: text('target'),
    before: jsonb('before'),
    after: jsonb('after'),
    details: jsonb('details'),
  },
  (t) => [index('audit_log_action_idx').on(t.action, t.id)],
);

export const schema = { conversations, messages, jobs, batches, webhookDeliveries, webhookSecrets, prompts, usageLedger, budgets, quotaShares, auditLog };
export type ConversationRow = typeof conversations.$inferSelect;
/** A message as read: without its search vector (as large as the text, and only Postgres needs it). */
export type MessageRow = Omit<typeof messages.$inferSelect, 'contentSearch'>;
const { contentSearch: _contentSearch, ...messageReadColumns } = getTableColumns(messages);
/** Columns to select for MessageRow. */
export const messageColumns = messageReadColumns;
export type JobRow = typeof jobs.$inferSelect;
export type PromptRow = typeof prompts.$inferSelect;
export type WebhookSecretRow = typeof webhookSecrets.$inferSelect;
export type BatchRow = typeof batches.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
export type LedgerRow = typeof usageLedger.$inferInsert;
export type BudgetRow = typeof budgets.$inferSelect;
export type ShareRow = typeof quotaShares.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
