import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { jobLimits } from '@switchboard/contracts/constants';

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z.string().url().optional();

const envSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default('redis://127.0.0.1:6379'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  /**
   * Credentials kept apart from the URLs: ECS injects them from single Secrets Manager keys at task
   * start, so a rotated password needs only new tasks, not a stack update. Put into the URL's
   * userinfo (percent-encoded); the URL itself then carries no secret.
   */
  DATABASE_PASSWORD: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  /** `true`: REDIS_URL names seed nodes (comma-separated) of a Redis Cluster / ElastiCache cluster mode. */
  REDIS_CLUSTER: z.enum(['true', 'false']).default('false'),
  DATA_DIR: z.string().min(1).default('./.data'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  BEDROCK_MODE: z.enum(['aws', 'emulator']).optional(),
  AWS_ENDPOINT_URL_BEDROCK_RUNTIME: optionalUrl,
  MODELS_FILE: z.string().min(1).optional(),
  /** The catalog as JSON; wins over MODELS_FILE (deployments: no file to write on a read-only root). */
  MODELS_JSON: z.string().min(2).optional(),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
  /** Postgres connections each process opens at boot and keeps open (a burst forks no backends). */
  DB_POOL_WARM: z.coerce.number().int().min(0).max(100).default(20),
  /** Most Postgres connections one process opens (default: API 10, worker 20); every task's pool must fit the database's max_connections. */
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).optional(),
  /** Name (prepare) statements per connection; `false` behind a transaction-pooling proxy (see openDatabase). */
  DB_NAMED_STATEMENTS: z.enum(['true', 'false']).default('true'),
  /** Keep-alive connections to Bedrock a worker opens at boot, for its first calls (default: WORKER_CONCURRENCY). */
  BEDROCK_POOL_WARM: z.coerce.number().int().min(0).max(1000).optional(),
  /** Compile each function with V8's baseline compiler on its first call (see applyBaselineJit). */
  BASELINE_JIT: z.enum(['true', 'false']).default('true'),
  NODE_ENV: z.string().optional(),
  /** No default in production: an unset AUTH_MODE must never fall back to the open local sign-in. */
  AUTH_MODE: z.enum(['local', 'oidc']).optional(),
  /** Local mode on a non-loopback HOST (anyone who reaches it picks any name): must be asked for explicitly. */
  AUTH_LOCAL_INSECURE: z.enum(['true', 'false']).default('false'),
  /** Local mode: user names that get AUTH_ADMIN_GROUP (dev-token ignores requested groups). */
  AUTH_LOCAL_ADMINS: z.string().default(''),
  /** Resource-server prefix accepted before jobs:read / jobs:write, e.g. `https://api.example/` or `switchboard/`. */
  AUTH_SCOPE_PREFIX: z.string().min(1).max(200).optional(),
  /** Least time between two JWKS fetches caused by tokens with an unknown `kid` (a rotated key works after at most this). */
  AUTH_JWKS_REFRESH_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  AUTH_ISSUER: optionalUrl,
  /** Accepted audiences (ID-token `aud` or access-token `client_id`), comma-separated. */
  AUTH_AUDIENCE: z.string().min(1).optional(),
  AUTH_JWKS_URL: optionalUrl,
  AUTH_ADMIN_GROUP: z.string().min(1).default('admin'),
  /** Public OIDC client id the portal signs in with (oidc mode). */
  AUTH_CLIENT_ID: z.string().min(1).optional(),
  /** The IdP's end-session (logout) URL when its discovery omits one, e.g. Cognito's `https://<domain>/logout`. */
  AUTH_END_SESSION_URL: optionalUrl,
  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Express `trust proxy`: which peers may set X-Forwarded-* (the ALB sits in the VPC's private ranges). */
  TRUST_PROXY: z.string().min(1).default('loopback,uniquelocal'),
  /** Largest Socket.IO frame before the connection has authenticated (the full chat allowance comes after). */
  SOCKET_UNAUTHENTICATED_MAX_BYTES: z.coerce.number().int().min(4096).max(1024 * 1024).default(64 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `json` (one object a line) or `pretty` (colored, for people); unset: pretty on a terminal outside production. */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  /** Worker: serve Prometheus metrics on this port (0: off). */
  WORKER_METRICS_PORT: port.default(0),
  /** Worker: address of the metrics port (containers: 0.0.0.0). */
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** How long a worker's or API node's heartbeat lives; refreshed three times per period. A dead process is gone from Operations after at most this. */
  OPS_HEARTBEAT_MS: z.coerce.number().int().min(300).max(300_000).default(10_000),
  /** How often the API pushes the Operations picture to connected admins. */
  OPS_PUSH_INTERVAL_MS: z.coerce.number().int().min(200).max(60_000).default(2000),
  /** Redis key prefix of the queues; carries a hash tag so queues work on Redis Cluster. */
  QUEUE_PREFIX: z.string().regex(/^\{[^{}]+\}$/, 'must be a hash tag such as {sb}').default('{sb}'),
  /** Quota period of the governor: Bedrock counts per minute; tests shorten it. */
  QUOTA_WINDOW_MS: z.coerce.number().int().min(100).default(60_000),
  /** Slack added to the window for clock differences with Bedrock (reservations are dated at its answer). */
  QUOTA_SAFETY_MARGIN_MS: z.coerce.number().int().min(0).default(100),
  /** How often a worker prints its backlog as CloudWatch EMF on stdout; 0 turns it off. Default: 30 s on AWS (ECS), off elsewhere. */
  BACKLOG_METRICS_INTERVAL_MS: z.coerce.number().int().min(0).optional(),
  CHAT_TITLES: z.enum(['model', 'words']).default('model'),
  /** Worker: put timing stamps in answer stream entries (StreamStamps; bench:chat turns it on). */
  STREAM_STAMPS: z.enum(['true', 'false']).default('false'),
  /** Worker: how long an answer's append (not its first) may wait to share a Redis write with others' (JobStreamAppender). */
  STREAM_APPEND_LINGER_MS: z.coerce.number().int().min(0).max(50).default(3),
  /** Where the built portal is; served by the API when present. */
  WEB_DIST_DIR: z.string().optional(),
  /** Batch jobs: largest `POST /v1/jobs/summarize` body (413 above). */
  JOBS_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(jobLimits.maxBodyBytes).default(jobLimits.maxBodyBytes),
  /** Batch jobs: how often workers look for accepted jobs missing from Redis, and how old those must be. */
  /** Batch jobs: how long an Idempotency-Key returns its job; after that the same key makes a new job. */
  JOBS_IDEMPOTENCY_TTL_MS: z.coerce.number().int().min(1).default(24 * 60 * 60 * 1000),
  JOBS_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  JOBS_RECONCILE_MIN_AGE_MS: z.coerce.number().int().min(0).default(15_000),
  /** Batch jobs: longest chunk sent to the model in one call, even when the context window is larger. */
  SUMMARIZE_MAX_CHUNK_CHARS: z.coerce.number().int().min(1000).default(100_000),
  /** Job callbacks: allow private, loopback and link-local targets (local development and tests only). */
  WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false'),
  /** Delivery attempts of a callback; with the default backoff 35 attempts span about 24 hours. */
  WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(200).default(35),
  /** First retry delay of a failed callback; doubles each attempt up to WEBHOOK_BACKOFF_MAX_MS, ±20 % jitter. */
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(10).default(2000),
  /** Longest delay between two callback attempts. */
  WEBHOOK_BACKOFF_MAX_MS: z.coerce.number().int().min(10).default(60 * 60 * 1000),
  /** Bulk submissions: most items in one `POST /v1/batches`. */
  BATCH_MAX_ITEMS: z.coerce.number().int().min(1).max(100_000).default(10_000),
  /** Retention: a finished job's text and documents are erased this long after it ended (0 = kept). */
  JOBS_INPUT_RETENTION_MS: z.coerce.number().int().min(0).default(7 * 24 * 60 * 60 * 1000),
  /** Retention: a finished job's result (summary) is erased this long after it ended (0 = kept). */
  JOBS_RESULT_RETENTION_MS: z.coerce.number().int().min(0).default(30 * 24 * 60 * 60 * 1000),
  /** Retention: how often the workers purge (one worker at a time, a bounded number of jobs a round). */
  JOBS_PURGE_INTERVAL_MS: z.coerce.number().int().min(100).default(10 * 60 * 1000),
  /** Whole callback delivery (connect, request, answer and its body); slower receivers are cut off. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * Worker job locks (BullMQ): a job whose worker died is handed to another one once its lock
   * expired and a stalled check saw it twice: within about lock + interval after its last renewal.
   */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(4000),
  WORKER_LOCK_RENEW_MS: z.coerce.number().int().min(100).default(1000),
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(100).default(2500),
  /** After SIGTERM: how long running answers may finish before they are handed to another worker (keep below ECS stopTimeout). */
  WORKER_DRAIN_MS: z.coerce.number().int().min(0).default(90_000),
  /**
   * Idle keep-alive connections the API keeps open. Must exceed the load balancer's idle timeout
   * (ALB: 300 s here), or the ALB reuses a connection Node just closed and answers 502.
   */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(310_000),
  /** Longest the API waits for Redis to take a chat or job (connection down: no wait at all). */
  REDIS_ENQUEUE_TIMEOUT_MS: z.coerce.number().int().min(100).default(1500),
  /** Apply pending database migrations when a process boots (laptops, tests); deployments run `migrate` as a step and set false. */
  DB_MIGRATE_ON_BOOT: z.enum(['true', 'false']).default('true'),
  /** Set by ECS on Fargate: the agent endpoint used for task scale-in protection while streams run. */
  ECS_AGENT_URI: optionalUrl,
  /** After a secret rotation, callbacks are signed with the old secret too for this long. */
  WEBHOOK_SECRET_GRACE_MS: z.coerce.number().int().min(0).default(24 * 60 * 60 * 1000),
  /** Documents: most bytes one document may inflate to (docx parts, decoded data). */
  DOC_MAX_INFLATED_BYTES: z.coerce.number().int().min(1024).default(20 * 1024 * 1024),
  /** Documents: most characters of text one document may yield. */
  DOC_MAX_CHARS: z.coerce.number().int().min(1000).default(5_000_000),
  /** Documents: most pages of one PDF. */
  DOC_MAX_PAGES: z.coerce.number().int().min(1).default(1000),
  /** Documents: wall time for extracting one document; the extraction thread is terminated after it. */
  DOC_EXTRACT_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  /** Documents: heap limit of the extraction thread (MB). */
  DOC_EXTRACT_MEMORY_MB: z.coerce.number().int().min(16).max(8192).default(256),
  /** Documents: extraction threads one worker process runs at once. */
  DOC_EXTRACT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** Times a job may stall (its worker died holding it) before it is failed as `poison`. */
  JOBS_MAX_STALLED: z.coerce.number().int().min(0).max(100).default(2),
  /** Per-principal limits, cluster-wide; 0 turns one off. */
  RATE_CHAT_PER_MINUTE: z.coerce.number().int().min(0).default(60),
  RATE_CHAT_CONCURRENT: z.coerce.number().int().min(0).default(20),
  RATE_JOBS_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
  RATE_SOCKETS_PER_USER: z.coerce.number().int().min(0).default(20),
  RATE_STORED_BYTES_PER_USER: z.coerce.number().int().min(0).default(2 * 1024 * 1024 * 1024),
});

export type AppConfig = {
  port: number;
  host: string;
  /** One URL, or (with redisCluster) comma-separated seed node URLs. */
  redisUrl: string;
  redisCluster: boolean;
  databaseUrl: string | undefined;
  dataDir: string;
  /** credentialsPresent: whether the SDK's default credential chain has something to find (awsCredentialsPresent). */
  aws: { region: string; bedrockEndpoint: string | undefined; credentialsPresent: boolean };
  bedrockMode: 'aws' | 'emulator';
  modelsFile: string | undefined;
  modelsJson: string | undefined;
  workerConcurrency: number;
  /** Postgres connections opened at boot and kept (DB_POOL_WARM). */
  dbPoolWarm: number;
  /** Most Postgres connections one process opens (DB_POOL_MAX; undefined: the process's own default). */
  dbPoolMax: number | undefined;
  /** Keep-alive connections to Bedrock a worker opens at boot, for its first calls (BEDROCK_POOL_WARM). */
  bedrockPoolWarm: number;
  /** DB_NAMED_STATEMENTS: each connection prepares our statements once. */
  dbNamedStatements: boolean;
  /** BASELINE_JIT: functions start baseline-compiled instead of interpreted. */
  baselineJit: boolean;
  auth: {
    mode: 'local' | 'oidc';
    issuer: string | undefined;
    audiences: string[];
    jwksUrl: string | undefined;
    adminGroup: string;
    clientId: string | undefined;
    endSessionUrl: string | undefined;
    /** Local mode listens beyond loopback on purpose (AUTH_LOCAL_INSECURE=true). */
    localInsecure: boolean;
    localAdmins: string[];
    scopePrefix: string | undefined;
    jwksRefreshMs: number;
  };
  metricsToken: string | undefined;
  trustProxy: boolean | number | string;
  sockets: { unauthenticatedMaxBytes: number };
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  logFormat: 'json' | 'pretty';
  /** Worker metrics port (0: off) and address. */
  workerMetrics: { port: number; host: string };
  ops: { heartbeatMs: number; pushIntervalMs: number };
  queuePrefix: string;
  quota: { windowMs: number; safetyMarginMs: number };
  backlogMetricsIntervalMs: number;
  /** `model`: a short model-written title after the first exchange (batch lane); `words`: the first words only. */
  chatTitles: 'model' | 'words';
  /** STREAM_STAMPS: answer stream entries carry the benchmark's timing stamps. */
  streamStamps: boolean;
  /** STREAM_APPEND_LINGER_MS: how long a worker's append may wait to share a write (0: next turn). */
  streamAppendLingerMs: number;
  webDistDir: string | undefined;
  worker: { lockDurationMs: number; lockRenewMs: number; stalledIntervalMs: number; drainMs: number; ecsAgentUri: string | undefined };
  redisEnqueueTimeoutMs: number;
  httpKeepAliveTimeoutMs: number;
  migrateOnBoot: boolean;
  jobs: {
    maxBodyBytes: number;
    idempotencyTtlMs: number;
    reconcileIntervalMs: number;
    reconcileMinAgeMs: number;
    maxChunkChars: number;
    webhooks: { allowPrivate: boolean; attempts: number; backoffMs: number; backoffMaxMs: number; timeoutMs: number; secretGraceMs: number };
    maxStalled: number;
    batchMaxItems: number;
    retention: { inputMs: number; resultMs: number; purgeIntervalMs: number };
  };
  documents: DocumentLimits;
  rates: RateLimits;
};

/** Caps of document extraction (DOC_*). */
export type DocumentLimits = {
  maxInflatedBytes: number;
  maxChars: number;
  maxPages: number;
  timeoutMs: number;
  memoryMb: number;
  concurrency: number;
};

/** Per-principal limits (RATE_*); 0 = off. */
export type RateLimits = {
  chatPerMinute: number;
  chatConcurrent: number;
  jobsPerMinute: number;
  socketsPerUser: number;
  storedBytesPerUser: number;
};

export class ConfigError extends Error {}

/** `path: message; …` — how a bad setting is named in a ConfigError. */
export function describeZodIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

/** True when the AWS SDK's default credential chain has something to find. */
export function awsCredentialsPresent(env: NodeJS.ProcessEnv): boolean {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return true;
  if (env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE) return true;
  if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return true;
  const awsDir = env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), '.aws', 'credentials');
  return existsSync(awsDir);
}

/** The URL with `password` in its userinfo (kept when none is given). */
export function withPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/** Parses and validates the environment once; a bad value throws a ConfigError naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration: ${describeZodIssues(parsed.error)}`);
  }
  const e = parsed.data;
  const authMode = e.AUTH_MODE ?? (e.NODE_ENV === 'production' ? undefined : 'local');
  if (!authMode) {
    throw new ConfigError('Invalid configuration: AUTH_MODE is required when NODE_ENV=production (oidc, or local for a single trusted machine)');
  }
  if (authMode === 'oidc' && !e.AUTH_ISSUER) {
    throw new ConfigError('Invalid configuration: AUTH_ISSUER is required when AUTH_MODE=oidc');
  }
  const redisUrls = e.REDIS_URL.split(',').map((u) => u.trim());
  if (redisUrls.some((u) => !/^rediss?:\/\/[^/]/.test(u))) {
    throw new ConfigError('Invalid configuration: REDIS_URL: every node must start with redis:// or rediss://');
  }
  if (redisUrls.length > 1 && e.REDIS_CLUSTER !== 'true') {
    throw new ConfigError('Invalid configuration: REDIS_URL names several nodes; set REDIS_CLUSTER=true for a Redis Cluster');
  }
  if (e.WORKER_LOCK_RENEW_MS >= e.WORKER_LOCK_DURATION_MS) {
    throw new ConfigError('Invalid configuration: WORKER_LOCK_RENEW_MS must be below WORKER_LOCK_DURATION_MS');
  }
  const audiences = (e.AUTH_AUDIENCE ?? '').split(',').map((a) => a.trim()).filter(Boolean);
  if (authMode === 'oidc' && audiences.length === 0) {
    throw new ConfigError('Invalid configuration: AUTH_AUDIENCE is required when AUTH_MODE=oidc (the client ids whose tokens are for this API)');
  }
  const localInsecure = e.AUTH_LOCAL_INSECURE === 'true';
  if (authMode === 'local' && !isLoopbackHost(e.HOST) && !localInsecure) {
    throw new ConfigError(
      `Invalid configuration: HOST=${e.HOST} is not a loopback address and AUTH_MODE=local lets anyone sign in as anyone; ` +
        'use AUTH_MODE=oidc, or set AUTH_LOCAL_INSECURE=true if the network in front of it is trusted',
    );
  }
  const credentialsPresent = awsCredentialsPresent(env);
  const bedrockMode = e.BEDROCK_MODE ?? (credentialsPresent ? 'aws' : 'emulator');
  return {
    port: e.PORT,
    host: e.HOST,
    redisUrl: redisUrls.map((u) => withPassword(u, e.REDIS_PASSWORD)).join(','),
    redisCluster: e.REDIS_CLUSTER === 'true',
    databaseUrl: e.DATABASE_URL && withPassword(e.DATABASE_URL, e.DATABASE_PASSWORD),
    dataDir: resolve(e.DATA_DIR),
    aws: { region: e.AWS_REGION, bedrockEndpoint: e.AWS_ENDPOINT_URL_BEDROCK_RUNTIME, credentialsPresent },
    bedrockMode,
    modelsFile: e.MODELS_FILE,
    modelsJson: e.MODELS_JSON,
    workerConcurrency: e.WORKER_CONCURRENCY,
    dbPoolWarm: e.DB_POOL_WARM,
    dbPoolMax: e.DB_POOL_MAX,
    bedrockPoolWarm: e.BEDROCK_POOL_WARM ?? e.WORKER_CONCURRENCY,
    dbNamedStatements: e.DB_NAMED_STATEMENTS === 'true',
    baselineJit: e.BASELINE_JIT === 'true',
    auth: {
      mode: authMode,
      issuer: e.AUTH_ISSUER?.replace(/\/$/, ''),
      audiences,
      jwksUrl: e.AUTH_JWKS_URL,
      adminGroup: e.AUTH_ADMIN_GROUP,
      clientId: e.AUTH_CLIENT_ID,
      endSessionUrl: e.AUTH_END_SESSION_URL,
      localInsecure,
      localAdmins: e.AUTH_LOCAL_ADMINS.split(',').map((a) => a.trim()).filter(Boolean),
      scopePrefix: e.AUTH_SCOPE_PREFIX,
      jwksRefreshMs: e.AUTH_JWKS_REFRESH_MS,
    },
    metricsToken: e.METRICS_TOKEN,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    sockets: { unauthenticatedMaxBytes: e.SOCKET_UNAUTHENTICATED_MAX_BYTES },
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT ?? (process.stdout.isTTY && e.NODE_ENV !== 'production' ? 'pretty' : 'json'),
    workerMetrics: { port: e.WORKER_METRICS_PORT, host: e.WORKER_METRICS_HOST },
    ops: { heartbeatMs: e.OPS_HEARTBEAT_MS, pushIntervalMs: e.OPS_PUSH_INTERVAL_MS },
    queuePrefix: e.QUEUE_PREFIX,
    quota: { windowMs: e.QUOTA_WINDOW_MS, safetyMarginMs: e.QUOTA_SAFETY_MARGIN_MS },
    // EMF lines are for CloudWatch: printed by default only where ECS runs the process.
    backlogMetricsIntervalMs: e.BACKLOG_METRICS_INTERVAL_MS ?? (env.ECS_CONTAINER_METADATA_URI_V4 || env.AWS_EXECUTION_ENV ? 30_000 : 0),
    chatTitles: e.CHAT_TITLES,
    streamStamps: e.STREAM_STAMPS === 'true',
    streamAppendLingerMs: e.STREAM_APPEND_LINGER_MS,
    webDistDir: e.WEB_DIST_DIR,
    worker: {
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      lockRenewMs: e.WORKER_LOCK_RENEW_MS,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
      drainMs: e.WORKER_DRAIN_MS,
      ecsAgentUri: e.ECS_AGENT_URI,
    },
    redisEnqueueTimeoutMs: e.REDIS_ENQUEUE_TIMEOUT_MS,
    httpKeepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    migrateOnBoot: e.DB_MIGRATE_ON_BOOT === 'true',
    jobs: {
      maxBodyBytes: e.JOBS_MAX_BODY_BYTES,
      idempotencyTtlMs: e.JOBS_IDEMPOTENCY_TTL_MS,
      reconcileIntervalMs: e.JOBS_RECONCILE_INTERVAL_MS,
      reconcileMinAgeMs: e.JOBS_RECONCILE_MIN_AGE_MS,
      maxChunkChars: e.SUMMARIZE_MAX_CHUNK_CHARS,
      webhooks: {
        allowPrivate: e.WEBHOOK_ALLOW_PRIVATE === 'true',
        attempts: e.WEBHOOK_ATTEMPTS,
        backoffMs: e.WEBHOOK_BACKOFF_MS,
        backoffMaxMs: e.WEBHOOK_BACKOFF_MAX_MS,
        timeoutMs: e.WEBHOOK_TIMEOUT_MS,
        secretGraceMs: e.WEBHOOK_SECRET_GRACE_MS,
      },
      maxStalled: e.JOBS_MAX_STALLED,
      batchMaxItems: e.BATCH_MAX_ITEMS,
      retention: { inputMs: e.JOBS_INPUT_RETENTION_MS, resultMs: e.JOBS_RESULT_RETENTION_MS, purgeIntervalMs: e.JOBS_PURGE_INTERVAL_MS },
    },
    documents: {
      maxInflatedBytes: e.DOC_MAX_INFLATED_BYTES,
      maxChars: e.DOC_MAX_CHARS,
      maxPages: e.DOC_MAX_PAGES,
      timeoutMs: e.DOC_EXTRACT_TIMEOUT_MS,
      memoryMb: e.DOC_EXTRACT_MEMORY_MB,
      concurrency: e.DOC_EXTRACT_CONCURRENCY,
    },
    rates: {
      chatPerMinute: e.RATE_CHAT_PER_MINUTE,
      chatConcurrent: e.RATE_CHAT_CONCURRENT,
      jobsPerMinute: e.RATE_JOBS_PER_MINUTE,
      socketsPerUser: e.RATE_SOCKETS_PER_USER,
      storedBytesPerUser: e.RATE_STORED_BYTES_PER_USER,
    },
  };
}

/** True for names and addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return /^\d+$/.test(value) ? Number(value) : value;
}
