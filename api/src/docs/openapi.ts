import type { INestApplication } from '@nestjs/common';
import { SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';
import {
  batchCreateSchema,
  batchItemSchema,
  batchLimits,
  batchResultLineSchema,
  batchSchema,
  batchWebhookPayloadSchema,
  conversationCreateSchema,
  conversationSchema,
  conversationUpdateSchema,
  devTokenRequestSchema,
  errorBodySchema,
  jobLimits,
  jobSchema,
  jobWebhookPayloadSchema,
  conversationSummarySchema,
  messageSchema,
  promptCreateSchema,
  promptSchema,
  promptUpdateSchema,
  summarizeRequestSchema,
  webhookDeliveryPageSchema,
  webhookHeaders,
  webhookSecretSchema,
} from '@switchboard/contracts';
import { outageMessage, outageRetryAfterSeconds } from '../common/dependency-outage.js';
import { spendPaths, spendSchemas } from './openapi-spend.js';

const schema = (s: z.ZodType, io: 'input' | 'output' = 'input') => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (s: object, example?: unknown) => ({ content: { 'application/json': { schema: s, ...(example !== undefined ? { example } : {}) } } });

const jobExample = {
  id: '0b9f3c6e-2a41-4c1e-9d0e-6f0f4f7d1a22',
  type: 'summarize',
  status: 'completed',
  progress: 100,
  result: { summary: 'The committee approved the budget and postponed the hiring plan.' },
  usage: { inputTokens: 18234, outputTokens: 412 },
  createdAt: '2026-03-02T10:00:00.000Z',
  startedAt: '2026-03-02T10:00:00.120Z',
  finishedAt: '2026-03-02T10:00:09.870Z',
};
const errorExample = (code: string, message: string) => ({ error: { code, message }, requestId: '6c1d2f0e-1b7a-4a43-8f55-2b9d0c3e4f51' });
const statusNames: Record<number, string> = {
  400: 'Bad request', 401: 'Unauthorized', 402: 'Payment required', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict', 413: 'Payload too large',
  415: 'Unsupported media type', 422: 'Unprocessable', 429: 'Too many requests', 503: 'Unavailable',
};
/** Error responses; a case's 4th element replaces the example's details (e.g. model_not_found's valid ids). */
const errors = (...cases: ([number, string, string] | [number, string, string, unknown])[]) => {
  const byStatus = new Map<number, { codes: string[]; examples: Record<string, { value: unknown }> }>();
  for (const [status, code, message, details] of cases) {
    const entry = byStatus.get(status) ?? { codes: [], examples: {} };
    entry.codes.push(code);
    const example = errorExample(code, message) as { error: Record<string, unknown> };
    if (details !== undefined) example.error.details = details;
    entry.examples[code in entry.examples ? `${code}_${Object.keys(entry.examples).length}` : code] = { value: example };
    byStatus.set(status, entry);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, { codes, examples }]) => [
      String(status),
      {
        description: `${statusNames[status] ?? 'Error'}: ${[...new Set(codes)].map((c) => `\`${c}\``).join(', ')}`,
        ...(status === 429 || status === 503 ? { headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } } : {}),
        // One case: `example`; several (e.g. validation_failed and model_not_found for 400): named `examples`.
        content: { 'application/json': { schema: ref('ErrorBody'), ...(Object.keys(examples).length === 1 ? { example: Object.values(examples)[0]!.value } : { examples }) } },
      },
    ]),
  );
};
/** What every authenticated endpoint may answer: no valid token, or Postgres/Redis unreachable. */
const authErrors: [number, string, string][] = [
  [401, 'unauthorized', 'A valid bearer token is required'],
  [503, 'unavailable', `${outageMessage} (Retry-After: ${outageRetryAfterSeconds})`],
];
/** What the jobs and batches routes add: scopes, per-principal limits. */
const jobScopeError = (scope: string): [number, string, string] => [403, 'forbidden', `This token lacks the ${scope} scope`];
const tooLarge: [number, string, string, unknown] = [413, 'payload_too_large', `Request body is 40000000 bytes; the limit is ${jobLimits.maxBodyBytes} bytes (JOBS_MAX_BODY_BYTES)`, { limit: jobLimits.maxBodyBytes }];
const rateLimited: [number, string, string] = [429, 'rate_limited', 'Too many requests: at most 6000 job submissions a minute (Retry-After)'];
const modelNotFound: [number, string, string, unknown] = [
  400,
  'model_not_found',
  'Unknown model "nope"; valid ids: us.anthropic.claude-sonnet-4-5-20250929-v1:0, us.anthropic.claude-haiku-4-5-20251001-v1:0',
  { modelId: 'nope', validModelIds: ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'us.anthropic.claude-haiku-4-5-20251001-v1:0'] },
];
const idempotencyHeader = { name: 'Idempotency-Key', in: 'header', description: 'Makes a retry safe: the same key and body within JOBS_IDEMPOTENCY_TTL_MS (24 h) replays the first answer; the key with another body is 422.', schema: { type: 'string', maxLength: jobLimits.maxIdempotencyKeyChars } };
const batchExample = {
  id: '7a1e2c3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d',
  status: 'active',
  total: 3,
  counts: { queued: 1, active: 1, completed: 1, failed: 0, cancelled: 0 },
  metadata: { run: 'nightly-2026-03-02' },
  callback: { attempts: 0 },
  createdAt: '2026-03-02T10:00:00.000Z',
};
const signatureHeaders = [
  { name: webhookHeaders.event, in: 'header', required: true, description: 'The event: job.completed, job.failed, job.cancelled, batch.completed or batch.cancelled.', schema: { type: 'string' } },
  { name: webhookHeaders.delivery, in: 'header', required: true, description: '`wh-<job or batch id>`: the same on every retry and redelivery; de-duplicate by it.', schema: { type: 'string' } },
  { name: webhookHeaders.timestamp, in: 'header', required: true, description: 'Unix seconds when this attempt was signed; refuse deliveries more than 5 minutes from your clock.', schema: { type: 'string' } },
  {
    name: webhookHeaders.signature,
    in: 'header',
    required: true,
    description:
      '`sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, keyed with the whole `whsec_…` secret of `GET /v1/webhooks/secret` as UTF-8 bytes. For WEBHOOK_SECRET_GRACE_MS after a rotation: `sha256=<new>,sha256=<previous>`; accept when any matches (compare in constant time).',
    schema: { type: 'string' },
    example: 'sha256=5d41402abc4b2a76b9719d911017c592ae8c1bb5a1f0b0a6e2d3c4b5a6978e1f',
  },
];
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

/** The OpenAPI 3.1 document of every REST endpoint, built from the contract's zod schemas. */
export function buildOpenApi(): Record<string, unknown> {
  return finalize({
    openapi: '3.1.0',
    servers: [{ url: '/', description: 'The API that serves this document (any Switchboard deployment)' }],
    info: {
      title: 'Switchboard API',
      version: '0.1.0',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
      description:
        'Chat and batch summarization for Claude on Amazon Bedrock. Every call but health, metrics, docs and JWKS needs `Authorization: Bearer <JWT>`. ' +
        'Service clients use OIDC client-credentials tokens with scopes `jobs:write` / `jobs:read` (Cognito: `<resource-server>/jobs:write`); people signed in to the portal may use the jobs API too. ' +
        'Errors are always `{ error: { code, message, details? }, requestId }`. ' +
        'Every response carries `X-Request-Id` (the caller\'s own when it is a token of 1–100 letters, digits and `._:-`; else a new UUID); an error body\'s `requestId` is the same id.',
    },
    components: {
      headers: {
        XRequestId: { description: 'The id of this request (in the logs, and as `requestId` in error bodies).', schema: { type: 'string', maxLength: 100 } },
        IdempotentReplayed: { description: '`true` when the answer replays the job an earlier request with the same Idempotency-Key and body made.', schema: { type: 'string', enum: ['true'] } },
        RetryAfter: { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } },
      },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        ErrorBody: schema(errorBodySchema),
        SummarizeRequest: schema(summarizeRequestSchema),
        Job: schema(jobSchema),
        JobPage: { type: 'object', required: ['items', 'nextCursor'], properties: { items: { type: 'array', items: ref('Job') }, nextCursor: { type: ['string', 'null'] } } },
        WebhookSecret: schema(webhookSecretSchema, 'output'),
        WebhookDeliveryPage: schema(webhookDeliveryPageSchema, 'output'),
        JobWebhookPayload: schema(jobWebhookPayloadSchema, 'output'),
        BatchWebhookPayload: schema(batchWebhookPayloadSchema, 'output'),
        BatchItem: schema(batchItemSchema),
        // Items refer to BatchItem rather than repeat it.
        BatchCreate: withProperty(schema(batchCreateSchema), 'items', (items) => ({ ...items, items: ref('BatchItem') })),
        Batch: schema(batchSchema, 'output'),
        BatchResultLine: schema(batchResultLineSchema, 'output'),
        Conversation: schema(conversationSchema),
        ConversationCreate: schema(conversationCreateSchema),
        ConversationUpdate: schema(conversationUpdateSchema),
        Message: schema(messageSchema),
        ConversationSummary: schema(conversationSummarySchema),
        Prompt: schema(promptSchema),
        PromptCreate: schema(promptCreateSchema),
        PromptUpdate: schema(promptUpdateSchema),
        DevTokenRequest: schema(devTokenRequestSchema),
        ...spendSchemas,
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/healthz': { get: { tags: ['ops'], summary: 'Liveness', security: [], responses: { 200: json({ type: 'object' }, { status: 'ok' }) } } },
      '/readyz': {
        get: {
          tags: ['ops'],
          summary: 'Readiness: Redis and the database answer',
          security: [],
          responses: {
            200: json({ type: 'object' }, { status: 'ok', checks: { redis: 'ok', database: 'ok' } }),
            503: { description: 'A dependency is down (which one, never why)', ...json({ type: 'object' }, { status: 'unavailable', checks: { redis: 'ok', database: 'down' } }) },
          },
        },
      },
      '/metrics': {
        get: {
          tags: ['ops'],
          summary: 'Prometheus metrics; needs `Authorization: Bearer <METRICS_TOKEN>` when the API has METRICS_TOKEN set',
          security: [],
          responses: { 200: { description: 'text/plain exposition format' }, ...errors([401, 'unauthorized', 'Metrics need Authorization: Bearer <METRICS_TOKEN>']) },
        },
      },
      '/v1/admin/ops': {
        get: {
          tags: ['ops'],
          summary: 'Admins: the Operations picture (quota used per model, backlog by lane, workers, API nodes), from Redis only; also pushed as `ops:snapshot` on the Socket.IO namespace `/ops`',
          responses: {
            200: json({ type: 'object' }, { at: 1764495000000, windowMs: 60000, models: [], queues: [{ name: 'chat', lane: 'chat', waiting: 0, delayed: 0, active: 1, failed: 0 }], oldestWaiting: null, workers: [], apiNodes: [] }),
            ...errors(...authErrors, [403, 'forbidden', 'Operations is for members of "admin"']),
          },
        },
      },
      '/v1/admin/queues/session': {
        post: {
          tags: ['ops'],
          summary: 'Admins: a 15-minute HttpOnly, SameSite=Strict cookie for the queue dashboard at /admin/queues (browsers navigate without the bearer token)',
          responses: { 204: { description: 'Set-Cookie: sb_queues=…; Path=/admin/queues; Max-Age=900; HttpOnly; SameSite=Strict' }, ...errors(...authErrors, [403, 'forbidden', 'The queue dashboard is for members of "admin"']) },
        },
      },
      '/.well-known/jwks.json': { get: { tags: ['auth'], summary: 'Local mode: the API’s signing keys', security: [], responses: { 200: json({ type: 'object' }), ...errors([404, 'not_found', 'This API is not a token issuer in oidc mode']) } } },
      '/v1/auth/dev-token': {
        post: {
          tags: ['auth'],
          summary: 'Local mode only: a signed token for any user, optionally with scopes (requested groups are ignored: admins are the names in AUTH_LOCAL_ADMINS)',
          security: [],
          requestBody: json(ref('DevTokenRequest'), { username: 'batch-bot', scopes: ['jobs:read', 'jobs:write'] }),
          responses: {
            200: json({ type: 'object' }, { access_token: 'eyJhbGciOiJSUzI1NiIs…', token_type: 'Bearer', expires_in: 3600 }),
            ...errors([400, 'validation_failed', 'Invalid request: username: Required'], [404, 'not_found', 'dev-token exists only in local auth mode']),
          },
        },
      },
      '/v1/me': { get: { tags: ['auth'], summary: 'Who the token is', responses: { 200: json({ type: 'object' }, { sub: 'local:ana', username: 'ana', groups: [], scopes: [] }), ...errors(...authErrors) } } },
      '/v1/client-config': { get: { tags: ['models'], summary: 'What the portal needs before sign-in', security: [], responses: { 200: json({ type: 'object' }, { authMode: 'local', bedrockMode: 'emulator', version: '0.1.0', adminGroup: 'admin' }) } } },
      '/v1/models': {
        get: {
          tags: ['models'],
          summary: 'The models the caller’s groups may use (catalog `allowedGroups`; without quota internals and access lists)',
          responses: {
            200: json({ type: 'array' }, [{ id: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', name: 'Claude Sonnet 4.5', vision: true, documents: true, maxOutputTokens: 64000, contextWindow: 200000, price: { inputPer1k: 0.003, outputPer1k: 0.015, cacheReadPer1k: 0.0003, cacheWritePer1k: 0.00375 }, rules: { exclusiveSampling: true, topK: { min: 0, max: 500 }, thinking: { minBudget: 1024 }, promptCache: { minTokens: 1024, maxPoints: 4 }, images: { maxCount: 20, maxBytes: 3932160, maxPixels: 8000 }, documents: { maxCount: 5, maxBytes: 4718592, formats: ['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md'] } }, default: true }]),
            ...errors(...authErrors),
          },
        },
      },
      '/v1/conversations': {
        get: {
          tags: ['conversations'],
          summary: 'Own conversations, newest first',
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
            {
              name: 'q',
              in: 'query',
              schema: { type: 'string', maxLength: 200 },
              description:
                'Full-text search over titles and message text (web-search syntax: words, "a phrase", -exclude, or). Queries with Chinese, Japanese or Korean characters match as substrings. Items then carry a `snippet` of the match.',
            },
          ],
          responses: {
            200: json(
              { type: 'object', properties: { items: { type: 'array', items: { allOf: [ref('Conversation'), { type: 'object', properties: { snippet: { type: 'string' } } }] } }, nextCursor: { type: ['string', 'null'] } } },
              {
                items: [
                  {
                    id: '5e7d0c1a-9a3e-4b8f-a0f1-2d4c6b8e0a13',
                    title: 'Kafka sizing',
                    modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
                    systemPrompt: null,
                    params: { temperature: 0.3 },
                    usage: { inputTokens: 1830, outputTokens: 412, cost: 0.01167 },
                    snippet: '…How do I size the partitions of a Kafka topic for ingestion?',
                    createdAt: '2026-03-02T10:00:00.000Z',
                    updatedAt: '2026-03-02T10:05:00.000Z',
                  },
                ],
                nextCursor: null,
              },
            ),
            ...errors(...authErrors, [400, 'validation_failed', 'Invalid cursor']),
          },
        },
        post: {
          tags: ['conversations'],
          summary: 'Create a conversation',
          requestBody: json(ref('ConversationCreate'), { title: 'Release notes', systemPrompt: 'Be brief', params: { temperature: 0.3 } }),
          responses: {
            201: json(ref('Conversation')),
            ...errors(
              ...authErrors,
              [400, 'validation_failed', 'Invalid request: params.temperature: Too big'],
              [403, 'model_not_allowed', 'Your groups may not use Claude Opus 4.5'],
              [413, 'payload_too_large', 'Request body is larger than the allowed size'],
            ),
          },
        },
      },
      '/v1/conversations/{id}': {
        parameters: [idParam],
        get: {
          tags: ['conversations'],
          summary: 'A conversation with every message of every branch in order',
          description:
            'Each message has `parentId` (the message it follows; siblings are branches from regenerate or edit-and-resend) and assistant messages a `cost` (USD at the catalog prices when answered). ' +
            '`activeLeafId` is the last message of the current branch (walk `parentId` up from it to show the branch). `summary` is set once history compression ran (`params.compressThreshold`). `usage` sums tokens and cost.',
          responses: {
            200: json({
              allOf: [
                ref('Conversation'),
                {
                  type: 'object',
                  properties: {
                    messages: { type: 'array', items: ref('Message') },
                    activeLeafId: { type: ['string', 'null'] },
                    summary: { oneOf: [ref('ConversationSummary'), { type: 'null' }] },
                  },
                },
              ],
            }),
            ...errors(...authErrors, [404, 'not_found', 'Conversation not found']),
          },
        },
        patch: {
          tags: ['conversations'],
          summary: 'Rename, change settings (model, system prompt, params incl. historyMessages, compressThreshold, thinkingBudget and effort; params must fit the model catalog rules, else 400 naming the field) or switch branch (activeLeafId)',
          requestBody: {
            content: {
              'application/json': {
                schema: ref('ConversationUpdate'),
                examples: {
                  rename: { value: { title: 'Renamed' } },
                  params: { value: { params: { temperature: 0.5, maxTokens: 2000, historyMessages: 20, compressThreshold: 8000 } } },
                  thinking: { value: { params: { thinkingBudget: 4096, maxTokens: 2000 } } },
                  branch: { value: { activeLeafId: '9f1c7a52-4c1d-4d8e-b1a0-3e2f4a5b6c7d' } },
                },
              },
            },
          },
          responses: {
            200: json(ref('Conversation')),
            ...errors(
              ...authErrors,
              [400, 'validation_failed', "compressThreshold must be below Claude Sonnet 4.5's context window of 200000 tokens"],
              [404, 'not_found', 'Conversation not found'],
            ),
          },
        },
        delete: { tags: ['conversations'], summary: 'Delete', responses: { 204: { description: 'Deleted' }, ...errors(...authErrors, [404, 'not_found', 'Conversation not found']) } },
      },
      '/v1/prompts': {
        get: {
          tags: ['prompts'],
          summary: 'Preset prompts (owner "system", in the chosen locale) followed by your own (owner "me")',
          parameters: [
            { name: 'locale', in: 'query', schema: { type: 'string', enum: ['en', 'zh-CN'] }, description: 'Default: from Accept-Language, else en' },
            { name: 'Accept-Language', in: 'header', schema: { type: 'string' }, example: 'zh-CN,zh;q=0.9' },
          ],
          responses: {
            200: json({ type: 'array', items: ref('Prompt') }, [
              { id: 'preset:translator', title: 'Translator', systemPrompt: 'You are a professional translator…', tags: ['writing', 'language'], locale: 'en', owner: 'system' },
              { id: '3c2b1a09-8f7e-4d6c-9b5a-1f2e3d4c5b6a', title: 'Release notes', systemPrompt: 'Write release notes from commits.', tags: ['work'], locale: null, owner: 'me', createdAt: '2026-03-02T10:00:00.000Z', updatedAt: '2026-03-02T10:00:00.000Z' },
            ]),
            ...errors(...authErrors, [400, 'validation_failed', 'Invalid request: locale: Invalid option']),
          },
        },
        post: {
          tags: ['prompts'],
          summary: 'Save a prompt of your own',
          requestBody: json(ref('PromptCreate'), { title: 'Release notes', systemPrompt: 'Write release notes from commits.', tags: ['work'] }),
          responses: { 201: json(ref('Prompt')), ...errors(...authErrors, [400, 'validation_failed', 'Invalid request: title: Too small']) },
        },
      },
      '/v1/prompts/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        patch: {
          tags: ['prompts'],
          summary: 'Edit one of your prompts',
          requestBody: json(ref('PromptUpdate'), { title: 'Release notes v2' }),
          responses: {
            200: json(ref('Prompt')),
            ...errors(...authErrors, [403, 'forbidden', 'Built-in prompts cannot be changed'], [404, 'not_found', 'Prompt not found']),
          },
        },
        delete: {
          tags: ['prompts'],
          summary: 'Delete one of your prompts',
          responses: { 204: { description: 'Deleted' }, ...errors(...authErrors, [403, 'forbidden', 'Built-in prompts cannot be changed'], [404, 'not_found', 'Prompt not found']) },
        },
      },
      '/v1/jobs/summarize': {
        post: {
          tags: ['jobs'],
          summary: 'Submit a summarization job (text or documents: pdf, txt, md, html, docx, csv)',
          description:
            'Answers 202 once the job is stored. Long documents are summarized map-reduce (progress rises as chunks finish). ' +
            'Idempotency: the same `Idempotency-Key` with the same body from the same principal within `JOBS_IDEMPOTENCY_TTL_MS` (24 h by default) returns the same job with `Idempotent-Replayed: true`; ' +
            'the key with a different body (text, documents, modelId, instructions, maxWords, callbackUrl, metadata or name) is 422 `idempotency_key_reused`; after the window the key makes a new job. ' +
            'Use a key derived from the content (e.g. a hash of the file), not only from the date. Document formats are case-insensitive (`PDF` is `pdf`). `callbackUrl` receives `{ event, job, metadata? }` when the job ends, ' +
            'signed with `X-Switchboard-Signature: sha256=<HMAC-SHA256 of "<X-Switchboard-Timestamp>.<body>">` using the secret of `/v1/webhooks/secret`; private, loopback and link-local targets are refused. Scope: `jobs:write`.',
          parameters: [{ ...idempotencyHeader, example: 'report-2026-03-02-3f8a1c9e' }],
          requestBody: {
            content: {
              'application/json': {
                schema: ref('SummarizeRequest'),
                examples: {
                  text: { value: { text: 'Minutes of the March board meeting…', maxWords: 150, instructions: 'Focus on decisions', metadata: { batch: 'nightly' } } },
                  document: { value: { documents: [{ name: 'report.pdf', format: 'pdf', data: 'JVBERi0xLjcK' }], callbackUrl: 'https://example.com/hooks/switchboard' } },
                },
              },
            },
          },
          responses: {
            202: {
              ...json(ref('Job'), { ...jobExample, status: 'queued', progress: 0, result: undefined, usage: undefined, startedAt: undefined, finishedAt: undefined }),
              description: 'Accepted (or, with `Idempotent-Replayed: true`, the job an earlier request with the same key and body made)',
              headers: { 'Idempotent-Replayed': { $ref: '#/components/headers/IdempotentReplayed' } },
            },
            ...errors(
              ...authErrors,
              [400, 'validation_failed', 'callbackUrl points to a loopback address (127.0.0.1); only public targets are allowed'],
              modelNotFound,
              jobScopeError('jobs:write'),
              tooLarge,
              [413, 'document_too_large', 'Document "scan.pdf" is 31000000 bytes; the limit is 20971520 bytes (DOC_MAX_INFLATED_BYTES)'],
              [415, 'unsupported_media_type', 'Document "a.xlsx" has format "xlsx"; supported: pdf, txt, md, csv, html, docx'],
              [402, 'budget_exceeded', 'Your budget is used up until 2026-12-01T00:00:00Z (UTC); ask an admin to raise it'],
              [403, 'model_not_allowed', 'Your groups may not use Claude Opus 4.5'],
              [422, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request body; use a new key for a new request'],
              rateLimited,
            ),
          },
        },
      },
      '/v1/jobs': {
        get: {
          tags: ['jobs'],
          summary: 'Own jobs, newest first. Scope: `jobs:read`',
          description:
            'Unknown query parameters are refused (400 `validation_failed` naming them), not ignored. ' +
            '`metadata.<key>=<value>` parameters (up to 5, e.g. `?metadata.team=finance`) keep the jobs whose metadata has that key with that string value.',
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string', enum: ['queued', 'active', 'completed', 'failed', 'cancelled'] } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
            { name: 'createdAfter', in: 'query', description: 'Only jobs created at or after this instant (ISO 8601 date or date-time)', schema: instant, example: '2026-03-02' },
            { name: 'createdBefore', in: 'query', description: 'Only jobs created before this instant (ISO 8601 date or date-time)', schema: instant, example: '2026-03-03T00:00:00Z' },
            { name: 'sort', in: 'query', description: '`-createdAt` newest first (default) or `createdAt` oldest first', schema: { type: 'string', enum: ['-createdAt', 'createdAt'], default: '-createdAt' } },
            { name: 'batchId', in: 'query', description: 'Only the items of this batch', schema: { type: 'string', format: 'uuid' } },
          ],
          responses: {
            200: json(ref('JobPage'), { items: [jobExample], nextCursor: null }),
            ...errors(...authErrors, [400, 'validation_failed', 'Invalid request: Unrecognized key: "colour"'], jobScopeError('jobs:read')),
          },
        },
      },
      '/v1/jobs/{id}': {
        parameters: [idParam],
        get: { tags: ['jobs'], summary: 'A job. Scope: `jobs:read`', responses: { 200: json(ref('Job'), jobExample), ...errors(...authErrors, jobScopeError('jobs:read'), [404, 'not_found', 'Job not found']) } },
        delete: {
          tags: ['jobs'],
          summary: 'Cancel a queued or running job (a running one stops at Bedrock); 202 again for a job already cancelled (safe to retry). With `?purge=true`: erase its input and result now. Scope: `jobs:write`',
          description:
            '`purge=true` erases the text, documents and result now (name, metadata, status, usage and timestamps stay; `inputPurgedAt`/`resultPurgedAt` say when). ' +
            'A queued or running job is cancelled first, so it never writes a result afterwards; a finished job keeps its status. Without `purge`, a completed or failed job is 409.',
          parameters: [{ name: 'purge', in: 'query', schema: { type: 'string', enum: ['true', 'false'] } }],
          responses: {
            202: json(ref('Job'), { ...jobExample, status: 'cancelled', result: undefined, error: { code: 'cancelled', message: 'Cancelled by the client' } }),
            ...errors(...authErrors, [400, 'validation_failed', 'Invalid request: purge: Invalid option'], jobScopeError('jobs:write'), [404, 'not_found', 'Job not found'], [409, 'conflict', 'Job is already completed (or failed)']),
          },
        },
      },
      '/v1/jobs/{id}/deliveries': {
        parameters: [idParam],
        get: {
          tags: ['jobs'],
          summary: 'Every attempt to deliver the job’s callback, oldest first. Scope: `jobs:read`',
          responses: {
            200: json(ref('WebhookDeliveryPage'), {
              items: [
                { at: '2026-03-02T10:00:10.000Z', status: 503, durationMs: 41, error: 'callback answered HTTP 503' },
                { at: '2026-03-02T10:00:12.100Z', status: null, durationMs: 10000, error: 'callback did not complete within 10000 ms' },
                { at: '2026-03-02T10:00:16.300Z', status: 200, durationMs: 38 },
              ],
            }),
            ...errors(...authErrors, jobScopeError('jobs:read'), [404, 'not_found', 'Job not found']),
          },
        },
        post: {
          tags: ['jobs'],
          summary: 'Deliver the finished job’s callback again (same `X-Switchboard-Delivery`, new timestamp and signature). Scope: `jobs:write`',
          responses: {
            202: json(ref('Job'), { ...jobExample, callback: { status: 'pending', attempts: 3 } }),
            ...errors(...authErrors, jobScopeError('jobs:write'), [404, 'not_found', 'Job not found'], [409, 'conflict', 'This job has no callbackUrl']),
          },
        },
      },
      '/v1/batches': {
        post: {
          tags: ['batches'],
          summary: 'Submit up to BATCH_MAX_ITEMS summarizations at once (JSON or JSONL) → 202 with the batch. Scope: `jobs:write`',
          description:
            `JSON \`{ items: [...], callbackUrl?, metadata? }\` or JSONL (\`Content-Type: application/x-ndjson\`, one item a line, \`?callbackUrl=\`). Each item is a summarize body without callbackUrl plus your \`customId\` (unique in the batch). ` +
            'Every item is checked first: one invalid item refuses the whole batch with 400 listing the item errors (`details[].path` like `items.3.text`), nothing is stored. ' +
            'Otherwise the batch and every item (a job carrying `batchId` and `customId`) are stored in one transaction before the 202, and the items go through the same queue, batch lane and per-client fairness as single jobs. ' +
            `At most BATCH_MAX_ITEMS items (${batchLimits.defaultMaxItems} by default; 413 above) and JOBS_MAX_BODY_BYTES. Idempotency-Key as for jobs. One callback when the batch ends (\`batch.completed\` or \`batch.cancelled\`).`,
          parameters: [{ ...idempotencyHeader, example: 'nightly-2026-03-02-9b1f' }, { name: 'callbackUrl', in: 'query', description: 'JSONL bodies only: the batch’s callbackUrl', schema: { type: 'string', format: 'uri' } }],
          requestBody: {
            content: {
              'application/json': {
                schema: ref('BatchCreate'),
                example: { items: [{ customId: 'q1-report', text: 'Quarterly report…', maxWords: 100 }, { customId: 'minutes', documents: [{ name: 'minutes.pdf', format: 'pdf', data: 'JVBERi0xLjcK' }] }], callbackUrl: 'https://example.com/hooks/switchboard', metadata: { run: 'nightly' } },
              },
              'application/x-ndjson': {
                schema: { type: 'string', description: 'One BatchItem as JSON a line', 'x-line-schema': ref('BatchItem') },
                example: '{"customId":"q1-report","text":"Quarterly report…"}\n{"customId":"q2-report","text":"Second quarter…"}\n',
              },
            },
          },
          responses: {
            202: { ...json(ref('Batch'), { ...batchExample, status: 'queued', counts: { queued: 3, active: 0, completed: 0, failed: 0, cancelled: 0 } }), description: 'Stored with every item (or, with `Idempotent-Replayed: true`, the batch an earlier request with the same key and body made)', headers: { 'Idempotent-Replayed': { $ref: '#/components/headers/IdempotentReplayed' } } },
            ...errors(
              ...authErrors,
              [400, 'validation_failed', 'The batch has 2 invalid items; nothing was stored: items.1.customId: duplicate customId "a" (also items.0); items.3.text: Too big', [{ path: 'items.1.customId', message: 'duplicate customId "a" (also items.0)' }, { path: 'items.3.modelId', message: 'Unknown model "nope"', code: 'model_not_found' }]],
              [402, 'budget_exceeded', 'Your budget is used up until 2026-12-01T00:00:00Z (UTC); ask an admin to raise it'],
              jobScopeError('jobs:write'),
              [413, 'payload_too_large', `The batch has 20000 items; the limit is ${batchLimits.defaultMaxItems} (BATCH_MAX_ITEMS)`, { limit: batchLimits.defaultMaxItems, items: 20000 }],
              tooLarge,
              [415, 'unsupported_media_type', 'Send the batch as application/json ({ "items": [...] }) or application/x-ndjson (one item a line)'],
              [422, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request body; use a new key for a new request'],
              rateLimited,
            ),
          },
        },
      },
      '/v1/batches/{id}': {
        parameters: [idParam],
        get: {
          tags: ['batches'],
          summary: 'A batch with its items counted by status. Scope: `jobs:read`',
          description: '`status`: `queued` until an item starts, `active`, `completed` once every item ended (then `finishedAt` is set and the callback goes out), `cancelled` after DELETE.',
          responses: { 200: json(ref('Batch'), batchExample), ...errors(...authErrors, jobScopeError('jobs:read'), [404, 'not_found', 'Batch not found']) },
        },
        delete: {
          tags: ['batches'],
          summary: 'Cancel every item not yet ended (running ones stop at Bedrock) → 202; again 202 when already cancelled. Scope: `jobs:write`',
          responses: {
            202: json(ref('Batch'), { ...batchExample, status: 'cancelled', counts: { queued: 0, active: 0, completed: 1, failed: 0, cancelled: 2 }, finishedAt: '2026-03-02T10:01:00.000Z' }),
            ...errors(...authErrors, jobScopeError('jobs:write'), [404, 'not_found', 'Batch not found'], [409, 'conflict', 'Batch is already completed']),
          },
        },
      },
      '/v1/batches/{id}/results': {
        parameters: [idParam],
        get: {
          tags: ['batches'],
          summary: 'The items’ results as JSONL in item order, streamed (any time; open items show their current status). Scope: `jobs:read`',
          responses: {
            200: {
              description:
                'JSONL: each line is one BatchResultLine (the schema below describes a line), e.g.\n\n' +
                '    {"customId":"q1-report","jobId":"0b9f3c6e-2a41-4c1e-9d0e-6f0f4f7d1a22","status":"completed","summary":"Revenue rose 4%.","usage":{"inputTokens":1830,"outputTokens":42},"costUsd":0.006}\n' +
                '    {"customId":"minutes","jobId":"5e7d0c1a-9a3e-4b8f-a0f1-2d4c6b8e0a13","status":"failed","error":{"code":"invalid_document","message":"The PDF could not be read"}}',
              content: { 'application/x-ndjson': { schema: ref('BatchResultLine') } },
            },
            ...errors(...authErrors, jobScopeError('jobs:read'), [404, 'not_found', 'Batch not found']),
          },
        },
      },
      '/v1/admin/catalog/reload': {
        post: {
          tags: ['admin'],
          summary: 'Re-read MODELS_FILE in every API node and worker (admins: AUTH_ADMIN_GROUP)',
          responses: {
            200: json({ type: 'object', required: ['models'], properties: { models: { type: 'array', items: { type: 'string' } } } }, { models: ['us.anthropic.claude-sonnet-4-5-20250929-v1:0'] }),
            ...errors(...authErrors, [400, 'bad_request', 'MODELS_FILE: entry 2: price: Required'], [403, 'forbidden', 'Only members of "admin" may reload the catalog']),
          },
        },
      },
      '/v1/webhooks/secret': {
        get: {
          tags: ['jobs'],
          summary: 'The secret that signs your callbacks (created on first use): the whole `whsec_…` string is the HMAC key. Scope: `jobs:write`',
          responses: { 200: json(ref('WebhookSecret'), { secret: 'whsec_3q2-7wYk0cX1t9mR4bV8nL2pQ6sD5fG3hJ7kA0zE1uI', createdAt: '2026-03-02T10:00:00.000Z' }), ...errors(...authErrors, jobScopeError('jobs:write')) },
        },
        post: {
          tags: ['jobs'],
          summary: 'Rotate the callback secret (audited): for WEBHOOK_SECRET_GRACE_MS (24 h) callbacks carry signatures with the new and the previous secret. Scope: `jobs:write`',
          responses: {
            200: json(ref('WebhookSecret'), { secret: 'whsec_9Zx-1aB2cD3eF4gH5iJ6kL7mN8oP9qR0sT1uV2wX3yZ4', createdAt: '2026-03-03T10:00:00.000Z', previousValidUntil: '2026-03-04T10:00:00.000Z' }),
            ...errors(...authErrors, jobScopeError('jobs:write')),
          },
        },
      },
      ...spendPaths,
    },
    webhooks: {
      jobEnded: {
        post: {
          tags: ['callbacks'],
          summary: 'Sent to a job’s callbackUrl when it ends',
          description: callbackDescription,
          parameters: signatureHeaders,
          requestBody: json(ref('JobWebhookPayload'), { event: 'job.completed', job: jobExample, metadata: { batch: 'nightly' } }),
          responses: callbackResponses,
        },
      },
      batchEnded: {
        post: {
          tags: ['callbacks'],
          summary: 'Sent to a batch’s callbackUrl once, when its last item ended or it was cancelled',
          description: callbackDescription,
          parameters: signatureHeaders,
          requestBody: json(ref('BatchWebhookPayload'), { event: 'batch.completed', batch: { ...batchExample, status: 'completed', counts: { queued: 0, active: 0, completed: 3, failed: 0, cancelled: 0 }, finishedAt: '2026-03-02T10:05:00.000Z' } }),
          responses: callbackResponses,
        },
      },
    },
  });
}

function withProperty(object: Record<string, unknown>, name: string, change: (p: Record<string, unknown>) => Record<string, unknown>) {
  const properties = object.properties as Record<string, Record<string, unknown>>;
  return { ...object, properties: { ...properties, [name]: change(properties[name]!) } };
}

const instant = { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'string', format: 'date' }] };
const callbackDescription =
  'Verify before trusting: HMAC-SHA256 of `<X-Switchboard-Timestamp>.<raw body>` keyed with the whole `whsec_…` secret, constant-time compare against each comma-separated `sha256=` value; ' +
  'refuse timestamps more than 5 minutes from your clock; de-duplicate by `X-Switchboard-Delivery` (retries and redeliveries repeat it). ' +
  'Anything but a 2xx within WEBHOOK_TIMEOUT_MS (10 s) is retried: WEBHOOK_BACKOFF_MS (2 s) doubling up to WEBHOOK_BACKOFF_MAX_MS (1 h) with ±20 % jitter, WEBHOOK_ATTEMPTS (35) attempts ≈ 24 h. ' +
  'Each attempt is in `GET /v1/jobs/{id}/deliveries`.';
const callbackResponses = {
  200: { description: 'Any 2xx acknowledges the delivery' },
  400: { description: 'Anything else (or no answer in time) is retried on the schedule above' },
};

/** HTTP method + path → operationId: one stable name per operation for generated clients. */
const operationIds: Record<string, string> = {
  'get /healthz': 'getHealth',
  'get /readyz': 'getReadiness',
  'get /metrics': 'getMetrics',
  'get /.well-known/jwks.json': 'getJwks',
  'post /v1/auth/dev-token': 'createDevToken',
  'get /v1/me': 'getMe',
  'get /v1/client-config': 'getClientConfig',
  'get /v1/models': 'listModels',
  'get /v1/conversations': 'listConversations',
  'post /v1/conversations': 'createConversation',
  'get /v1/conversations/{id}': 'getConversation',
  'patch /v1/conversations/{id}': 'updateConversation',
  'delete /v1/conversations/{id}': 'deleteConversation',
  'get /v1/prompts': 'listPrompts',
  'post /v1/prompts': 'createPrompt',
  'patch /v1/prompts/{id}': 'updatePrompt',
  'delete /v1/prompts/{id}': 'deletePrompt',
  'post /v1/jobs/summarize': 'submitSummarizeJob',
  'get /v1/jobs': 'listJobs',
  'get /v1/jobs/{id}': 'getJob',
  'delete /v1/jobs/{id}': 'cancelJob',
  'get /v1/jobs/{id}/deliveries': 'listJobDeliveries',
  'post /v1/jobs/{id}/deliveries': 'redeliverJobCallback',
  'post /v1/batches': 'createBatch',
  'get /v1/batches/{id}': 'getBatch',
  'delete /v1/batches/{id}': 'cancelBatch',
  'get /v1/batches/{id}/results': 'getBatchResults',
  'get /v1/webhooks/secret': 'getWebhookSecret',
  'post /v1/webhooks/secret': 'rotateWebhookSecret',
  'post /v1/admin/catalog/reload': 'reloadCatalog',
  'post jobEnded': 'jobEnded',
  'post batchEnded': 'batchEnded',
};
const derivedOperationId = (method: string, path: string) =>
  method +
  path
    .split(/[/.-]/)
    .filter(Boolean)
    .map((part) => (part.startsWith('{') ? `By${part.slice(1, 2).toUpperCase()}${part.slice(2, -1)}` : part[0]!.toUpperCase() + part.slice(1)))
    .join('');
const defaultDescriptions: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content' };
const methods = new Set(['get', 'post', 'put', 'patch', 'delete']);

/**
 * The last pass over the document: every operation gets its operationId (a path without one fails
 * the OpenAPI test), every response a description and the X-Request-Id header.
 */
function finalize(doc: Record<string, unknown>): Record<string, unknown> {
  for (const group of ['paths', 'webhooks'] as const) {
    for (const [path, item] of Object.entries((doc[group] ?? {}) as Record<string, Record<string, Record<string, unknown>>>)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!methods.has(method)) continue;
        // Routes added without a name in the table get one from method and path (getV1AdminAudit).
        operation.operationId ??= operationIds[`${method} ${path}`] ?? derivedOperationId(method, path);
        const responses = (operation.responses ?? {}) as Record<string, { description?: string; headers?: Record<string, unknown> }>;
        for (const [status, response] of Object.entries(responses)) {
          response.description ??= defaultDescriptions[status] ?? 'Answer';
          if (group === 'paths') response.headers = { 'X-Request-Id': { $ref: '#/components/headers/XRequestId' }, ...response.headers };
        }
      }
    }
  }
  return doc;
}

/** Swagger UI at /docs and the document at /docs/openapi.json, both without a token. */
export function setupDocs(app: INestApplication): void {
  const document = buildOpenApi();
  SwaggerModule.setup('docs', app, document as never, { jsonDocumentUrl: 'docs/openapi.json', raw: ['json'], customSiteTitle: 'Switchboard API' });
}
