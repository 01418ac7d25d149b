import type { INestApplication } from '@nestjs/common';
import { SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';
import {
  conversationCreateSchema,
  conversationSchema,
  conversationUpdateSchema,
  devTokenRequestSchema,
  errorBodySchema,
  jobSchema,
  conversationSummarySchema,
  messageSchema,
  promptCreateSchema,
  promptSchema,
  promptUpdateSchema,
  summarizeRequestSchema,
} from '@switchboard/contracts';
import { outageMessage, outageRetryAfterSeconds } from '../common/dependency-outage.js';
import { spendPaths, spendSchemas } from './openapi-spend.js';

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
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
const errors = (...cases: [number, string, string][]) =>
  Object.fromEntries(cases.map(([status, code, message]) => [String(status), { description: message, ...json(ref('ErrorBody'), errorExample(code, message)) }]));
/** What every authenticated endpoint may answer: no valid token, or Postgres/Redis unreachable. */
const authErrors: [number, string, string][] = [
  [401, 'unauthorized', 'A valid bearer token is required'],
  [503, 'unavailable', `${outageMessage} (Retry-After: ${outageRetryAfterSeconds})`],
];
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

/** The OpenAPI 3.1 document of every REST endpoint, built from the contract's zod schemas. */
export function buildOpenApi(): Record<string, unknown> {
  return withRequestIdHeaders({
    openapi: '3.1.0',
    info: {
      title: 'Switchboard API',
      version: '0.1.0',
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
      },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        ErrorBody: schema(errorBodySchema),
        SummarizeRequest: schema(summarizeRequestSchema),
        Job: schema(jobSchema),
        JobPage: { type: 'object', required: ['items', 'nextCursor'], properties: { items: { type: 'array', items: ref('Job') }, nextCursor: { type: ['string', 'null'] } } },
        WebhookSecret: { type: 'object', required: ['secret', 'createdAt'], properties: { secret: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } } },
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
          summary: 'Rename, change settings (model, system prompt, params incl. historyMessages, compressThreshold and thinkingBudget; params must fit the model catalog rules, else 400 naming the field) or switch branch (activeLeafId)',
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
          parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 200 }, example: 'report-2026-03-02-3f8a1c9e' }],
          requestBody: {
            content: {
              'application/json': {
                schema: ref('SummarizeRequest'),
                examples: {
                  text: { value: { text: 'Minutes of the March board meeting…', maxWords: 150, instructions: 'Focus on decisions', metadata: { batch: 'nightly' } } },
                  document: { value: { documents: [{ name: 'report.pdf', format: 'pdf', data: 'JVBERi0xLjcK…' }], callbackUrl: 'https://example.com/hooks/switchboard' } },
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
              [403, 'forbidden', 'This token lacks the jobs:write scope'],
              [413, 'payload_too_large', 'Request body is 40000000 bytes; the limit is 31457280 bytes'],
              [415, 'unsupported_media_type', 'Document "a.xlsx" has format "xlsx"; supported: pdf, txt, md, csv, html, docx'],
              [402, 'budget_exceeded', 'Your budget is used up until 2026-12-01T00:00:00Z (UTC); ask an admin to raise it'],
              [403, 'model_not_allowed', 'Your groups may not use Claude Opus 4.5'],
              [422, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request body; use a new key for a new request'],
              [429, 'rate_limited', 'Too many requests: at most 6000 job submissions a minute (Retry-After)'],
            ),
          },
        },
      },
      '/v1/jobs': {
        get: {
          tags: ['jobs'],
          summary: 'Own jobs, newest first. Scope: `jobs:read`',
          description: 'Unknown query parameters are refused (400 `validation_failed` naming them), not ignored.',
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string', enum: ['queued', 'active', 'completed', 'failed', 'cancelled'] } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
            { name: 'createdAfter', in: 'query', description: 'Only jobs created at or after this instant', schema: { type: 'string', format: 'date-time' }, example: '2026-03-02' },
            { name: 'createdBefore', in: 'query', description: 'Only jobs created before this instant', schema: { type: 'string', format: 'date-time' }, example: '2026-03-03T00:00:00Z' },
          ],
          responses: { 200: json(ref('JobPage'), { items: [jobExample], nextCursor: null }), ...errors(...authErrors, [400, 'validation_failed', 'Invalid request: Unrecognized key: "sort"'], [403, 'forbidden', 'This token lacks the jobs:read scope']) },
        },
      },
      '/v1/jobs/{id}': {
        parameters: [idParam],
        get: { tags: ['jobs'], summary: 'A job. Scope: `jobs:read`', responses: { 200: json(ref('Job'), jobExample), ...errors(...authErrors, [404, 'not_found', 'Job not found']) } },
        delete: {
          tags: ['jobs'],
          summary: 'Cancel a queued or running job (a running one stops at Bedrock); 202 again for a job already cancelled (safe to retry). Scope: `jobs:write`',
          responses: {
            202: json(ref('Job'), { ...jobExample, status: 'cancelled', result: undefined, error: { code: 'cancelled', message: 'Cancelled by the client' } }),
            ...errors(...authErrors, [404, 'not_found', 'Job not found'], [409, 'conflict', 'Job is already completed (or failed)']),
          },
        },
      },
      '/v1/webhooks/secret': {
        get: { tags: ['jobs'], summary: 'The secret that signs your job callbacks (created on first use). Scope: `jobs:write`', responses: { 200: json(ref('WebhookSecret'), { secret: 'whsec_3q2+7w…', createdAt: '2026-03-02T10:00:00.000Z' }), ...errors(...authErrors) } },
        post: { tags: ['jobs'], summary: 'Rotate the callback secret (audited). Scope: `jobs:write`', responses: { 200: json(ref('WebhookSecret')), ...errors(...authErrors) } },
      },
      ...spendPaths,
    },
  });
}

/** Every response of every operation documents the X-Request-Id header. */
function withRequestIdHeaders(doc: Record<string, unknown>): Record<string, unknown> {
  for (const item of Object.values(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const operation of Object.values(item)) {
      const responses = (operation as { responses?: Record<string, { headers?: Record<string, unknown> }> }).responses;
      for (const response of Object.values(responses ?? {})) {
        response.headers = { 'X-Request-Id': { $ref: '#/components/headers/XRequestId' }, ...response.headers };
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
