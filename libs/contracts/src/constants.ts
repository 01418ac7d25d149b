/**
 * The contract's plain values: limits, formats and event names. Nothing here imports zod, so a
 * browser can take them from `@switchboard/contracts/constants` without the schemas; the zod
 * schemas (and the API) use these same values.
 */

export const imageMediaTypes = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export const documentFormats = ['pdf', 'txt', 'md', 'csv', 'html', 'docx'] as const;
export type ImageMediaType = (typeof imageMediaTypes)[number];
export type DocumentFormat = (typeof documentFormats)[number];

/** Media types of the document formats (for file pickers; the API reads `format`, not these). */
export const documentMediaTypes: Readonly<Record<DocumentFormat, string>> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  html: 'text/html',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

/** Limits the API enforces on message content (base64 lengths are of the encoded text). */
export const contentLimits = {
  maxBlocks: 20,
  maxTextChars: 200_000,
  maxImageBase64Chars: Math.ceil((3.75 * 1024 * 1024 * 4) / 3), // Bedrock's 3.75 MB image limit
  maxDocumentBase64Chars: Math.ceil((4.5 * 1024 * 1024 * 4) / 3), // Bedrock's 4.5 MB document limit
  maxImages: 20,
  maxDocuments: 5,
  /** Largest socket message (all blocks together, encoded); bigger ones close the socket. */
  maxMessageBytes: 32 * 1024 * 1024,
  /** All blocks of one message together, in characters. */
  maxContentChars: 25 * 1024 * 1024,
} as const;

/** Limits of `POST /v1/jobs/summarize` (base64 lengths are of the encoded text). */
export const jobLimits = {
  /** Whole request body; the API answers 413 above it (configurable with JOBS_MAX_BODY_BYTES). */
  maxBodyBytes: 30 * 1024 * 1024,
  maxTextChars: 20_000_000,
  maxDocuments: 20,
  maxDocumentBase64Chars: Math.ceil((25 * 1024 * 1024 * 4) / 3),
  maxInstructionsChars: 4000,
  minWords: 10,
  maxWords: 5000,
  maxMetadataBytes: 4096,
  maxIdempotencyKeyChars: 200,
  /** `metadata.<key>=value` filters one `GET /v1/jobs` may carry. */
  maxMetadataFilters: 5,
} as const;

/** Bulk submissions (`POST /v1/batches`); the item cap is a setting (BATCH_MAX_ITEMS) up to `maxItems`. */
export const batchLimits = {
  defaultMaxItems: 10_000,
  maxItems: 100_000,
  maxCustomIdChars: 100,
  /** Item errors listed in one 400 answer (the count of all of them is in the message). */
  maxReportedErrors: 100,
} as const;

export const batchStatusValues = ['queued', 'active', 'completed', 'cancelled'] as const;
export type BatchStatusValue = (typeof batchStatusValues)[number];

export const jobStatusValues = ['queued', 'active', 'completed', 'failed', 'cancelled'] as const;
export type JobStatusValue = (typeof jobStatusValues)[number];

/** Socket.IO namespace of the chat. */
export const chatNamespace = '/chat';

/** Client → server event names. */
export const chatClientEvents = {
  send: 'chat:send',
  cancel: 'chat:cancel',
  resume: 'chat:resume',
  regenerate: 'chat:regenerate',
} as const;
/** Server → client event names. */
export const chatServerEvents = {
  status: 'chat:status',
  delta: 'chat:delta',
  done: 'chat:done',
  error: 'chat:error',
  /** Optional (newer servers): a conversation of the user changed, possibly in another tab. */
  conversationUpdated: 'conversation:updated',
} as const;

/** States of `chat:status`; `compressing`: the worker is summarizing older history before answering. */
export const chatStates = ['queued', 'active', 'retrying', 'compressing'] as const;
export type ChatState = (typeof chatStates)[number];

/** Events a callback carries. */
export const webhookEvents = ['job.completed', 'job.failed', 'job.cancelled', 'batch.completed', 'batch.cancelled'] as const;
export type WebhookEvent = (typeof webhookEvents)[number];

export const webhookHeaders = {
  event: 'x-switchboard-event',
  delivery: 'x-switchboard-delivery',
  timestamp: 'x-switchboard-timestamp',
  signature: 'x-switchboard-signature',
} as const;

/** Socket.IO namespace of the live Operations page (admins only; same handshake auth as `/chat`). */
export const opsNamespace = '/ops';
/** Server → client: the whole operations picture, pushed every few seconds to every connected admin. */
export const opsServerEvents = { snapshot: 'ops:snapshot' } as const;
/** Where the queue dashboard (bull-board) is mounted; the portal opens it after `POST /v1/admin/queues/session`. */
export const queueDashboardPath = '/admin/queues';
/** Who a budget or share applies to: a user (`sub`), a group (claim), or a batch client (`client_id`). */
export const budgetScopes = ['user', 'group', 'client'] as const;
export type BudgetScope = (typeof budgetScopes)[number];
/** Calendar periods in UTC: a day from 00:00, a month from the 1st. */
export const budgetPeriods = ['day', 'month'] as const;
export type BudgetPeriod = (typeof budgetPeriods)[number];
/** `block` refuses calls over the limit; `warn` lets them through and flags them (ledger + audit). */
export const budgetModes = ['block', 'warn'] as const;
export type BudgetMode = (typeof budgetModes)[number];

/** Upper bounds on what an admin may set (hostile input is bounded like everything else). */
export const budgetLimits = { maxUsd: 10_000_000, maxTokens: 1e15, maxSubjectChars: 200 } as const;

/** Catalog prices in USD per 1,000 tokens; cache reads and writes fall back to the input price. */
export type TokenPrices = { inputPer1k: number; outputPer1k: number; cacheReadPer1k?: number; cacheWritePer1k?: number };
export type TokenCounts = { inputTokens: number; outputTokens: number; cacheReadTokens?: number; cacheWriteTokens?: number };

/** USD for a call at catalog prices: the one formula the worker, the ledger and the portal use. */
export function callCostUsd(price: TokenPrices, usage: TokenCounts): number {
  return (
    (usage.inputTokens / 1000) * price.inputPer1k +
    (usage.outputTokens / 1000) * price.outputPer1k +
    ((usage.cacheReadTokens ?? 0) / 1000) * (price.cacheReadPer1k ?? price.inputPer1k) +
    ((usage.cacheWriteTokens ?? 0) / 1000) * (price.cacheWritePer1k ?? price.inputPer1k)
  );
}
