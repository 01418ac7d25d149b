import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { modelCatalogSchema } from '@switchboard/contracts';
import { z } from 'zod';

// CLI context values (-c key=value) arrive as strings: accept both forms.
const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const regionSchema = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'an AWS region such as eu-west-1');
const hostnameSchema = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a lower-case DNS name such as chat.example.com');

/**
 * Regions each cross-region inference-profile prefix may route to. A profile needs permission on
 * the foundation model in every one of them. AWS adds regions to profiles over time: override with
 * `inferenceProfileRegions` in the config file when the Bedrock console lists more.
 */
export const defaultInferenceProfileRegions: Record<string, string[]> = {
  us: ['us-east-1', 'us-east-2', 'us-west-2'],
  'us-gov': ['us-gov-east-1', 'us-gov-west-1'],
  eu: ['eu-central-1', 'eu-west-1', 'eu-west-3', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-central-2'],
  apac: ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-south-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-4'],
  ca: ['ca-central-1', 'ca-west-1'],
  jp: ['ap-northeast-1', 'ap-northeast-3'],
  au: ['ap-southeast-2', 'ap-southeast-4'],
};

export const paramsSchema = z
  .object({
    /** Prefix of the stack names (several deployments can share an account). */
    prefix: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,30}$/).default('Switchboard'),
    region: regionSchema,
    /** Optional: pins the stacks to an account. Without it the stacks stay environment-agnostic (offline synth). */
    account: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id').optional(),
    /** The model catalog given to the apps as MODELS_FILE; the worker may invoke these models only. */
    models: modelCatalogSchema.refine(
      // It travels in the task definition (64 KiB in all, shared with the rest of the container definitions).
      (models) => JSON.stringify(models).length <= 24_000,
      'the catalog must stay under 24 KB of JSON',
    ),
    inferenceProfileRegions: z.record(z.string(), z.array(regionSchema).min(1)).default(defaultInferenceProfileRegions),

    /** Public host name of the portal/API, e.g. chat.example.com. Needs `certificateArn`. */
    domainName: hostnameSchema.optional(),
    /** ACM certificate (same region) for `domainName`: turns on the HTTPS listener. */
    certificateArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/, 'an ACM certificate ARN')
      .optional(),
    /** Route 53 hosted zone of `domainName`: when given, an alias record to the ALB is created. */
    hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,32}$/).optional(),
    hostedZoneName: hostnameSchema.optional(),
    /** Who may reach the load balancer. */
    allowedCidrs: z.array(z.cidrv4()).min(1).default(['0.0.0.0/0']),

    network: z
      .object({
        maxAzs: int(2, 3).default(2),
        natGateways: int(1, 3).default(2),
        /** Interface endpoints for ECR, logs, Secrets Manager and Bedrock Runtime (keeps Bedrock traffic off the NAT). */
        interfaceEndpoints: bool.default(true),
      })
      .prefault({}),

    auth: z
      .object({
        /** Hosted UI prefix: https://<prefix>.auth.<region>.amazoncognito.com. Unique per region across AWS. */
        domainPrefix: z
          .string()
          .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/)
          .refine((p) => !/aws|amazon|cognito/.test(p), 'may not contain aws, amazon or cognito')
          .default('switchboard-portal'),
        /** More portals that sign in with the portal client (e.g. http://localhost:4200 for a dev portal). */
        extraPortalUrls: z.array(z.url()).default([]),
        mfa: z.enum(['required', 'optional']).default('required'),
        /** Cognito Plus feature plan (threat protection); billed per MAU. */
        plus: bool.default(false),
      })
      .prefault({}),

    redis: z
      .object({
        nodeType: z.string().regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/).default('cache.t4g.small'),
        /** Replicas of the primary (of each shard in cluster mode); at least one for Multi-AZ automatic failover. */
        replicas: int(1, 5).default(1),
        /**
         * Cluster mode enabled: `shards` primaries (each with `replicas`) share the key space; the apps
         * get the configuration endpoint and REDIS_CLUSTER=true. Off: one primary, as before.
         */
        clusterMode: bool.default(false),
        shards: int(1, 500).default(3),
      })
      .prefault({}),

    database: z
      .object({
        minAcu: z.coerce.number().min(0.5).max(256).multipleOf(0.5).default(0.5),
        maxAcu: z.coerce.number().min(1).max(256).multipleOf(0.5).default(4),
        /** Serverless v2 readers; one gives a failover target in another AZ. */
        readers: int(0, 3).default(1),
        backupRetentionDays: int(1, 35).default(7),
      })
      .prefault({})
      .refine((d) => d.minAcu <= d.maxAcu, 'database.minAcu must not exceed database.maxAcu'),

    api: z
      .object({
        cpu: z.coerce.number().pipe(z.union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096)])).default(512),
        memoryMiB: int(512, 30720).default(1024),
        minTasks: int(1, 100).default(2),
        maxTasks: int(1, 100).default(10),
        cpuTargetPercent: int(10, 90).default(60),
        /** ALB requests (each WebSocket upgrade counts once) per task per minute. */
        requestsPerTaskTarget: int(10, 100000).default(1000),
      })
      .prefault({})
      .refine((a) => a.minTasks <= a.maxTasks, 'api.minTasks must not exceed api.maxTasks'),

    worker: z
      .object({
        cpu: z.coerce.number().pipe(z.union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096)])).default(512),
        // Documents ride in job payloads: headroom for WORKER_CONCURRENCY of them at once.
        memoryMiB: int(512, 30720).default(2048),
        /** At least one task: the backlog metric is published by running workers. */
        minTasks: int(1, 100).default(1),
        /**
         * Bedrock's quota, not CPU, caps throughput: tasks beyond
         * sum(requestsPerMinute) x average stream seconds / 60 / concurrency only wait on the governor.
         */
        maxTasks: int(1, 100).default(6),
        /** WORKER_CONCURRENCY; streams are I/O-bound, so the apps' benchmarked default of 64 fits half a vCPU. */
        concurrency: int(1, 1000).default(64),
        /**
         * Scaling target: backlog (waiting + delayed + running chat, summarize and webhook jobs) per
         * running task. Unset, it is one task's capacity, `concurrency`: running jobs count, so a
         * task is "full" at its concurrency and more tasks start once demand exceeds the slots.
         */
        backlogPerTask: int(1, 10000).optional(),
        /** Run workers on Fargate Spot (about 70 % cheaper; a reclaimed task drains and hands its streams over). */
        spot: bool.default(false),
        /** Run workers on Graviton (ARM64; about 20 % cheaper per vCPU); the worker image is then built for arm64. */
        arm64: bool.default(false),
      })
      .prefault({})
      .refine((w) => w.minTasks <= w.maxTasks, 'worker.minTasks must not exceed worker.maxTasks'),

    /** SHA-256 of the RDS CA bundle the images fetch at build; when set, a different bundle fails the build. */
    rdsCaBundleSha256: z.string().regex(/^[0-9a-f]{64}$/, 'a hex SHA-256').optional(),

    /** Existing SNS topic (same region) that the CloudWatch alarms notify. */
    alarmTopicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'an SNS topic ARN').optional(),

    logRetentionDays: z.coerce
      .number()
      .pipe(z.union([z.literal(7), z.literal(14), z.literal(30), z.literal(60), z.literal(90), z.literal(180), z.literal(365)]))
      .default(30),
  })
  .superRefine((p, ctx) => {
    if (!!p.domainName !== !!p.certificateArn) {
      ctx.addIssue({
        code: 'custom',
        path: ['certificateArn'],
        message: 'domainName and certificateArn go together (Cognito accepts only https callback URLs)',
      });
    }
    if (p.certificateArn && !p.certificateArn.includes(`:acm:${p.region}:`)) {
      ctx.addIssue({ code: 'custom', path: ['certificateArn'], message: `the ALB certificate must be in ${p.region}` });
    }
    if (!!p.hostedZoneId !== !!p.hostedZoneName) {
      ctx.addIssue({ code: 'custom', path: ['hostedZoneId'], message: 'hostedZoneId and hostedZoneName go together' });
    }
    if (p.hostedZoneName && (!p.domainName || !`.${p.domainName}`.endsWith(`.${p.hostedZoneName}`))) {
      ctx.addIssue({ code: 'custom', path: ['hostedZoneName'], message: 'domainName must be inside hostedZoneName' });
    }
    p.models.forEach((model, i) => {
      const prefix = profilePrefix(model.id);
      if (!prefix) return;
      // Global profiles are called from any commercial region; not from GovCloud, China or ISO.
      if (prefix === 'global') {
        if (!isCommercialRegion(p.region)) {
          ctx.addIssue({ code: 'custom', path: ['models', i, 'id'], message: `${model.id}: global inference profiles are not offered in ${p.region}` });
        }
        return;
      }
      const regions = p.inferenceProfileRegions[prefix];
      if (!regions) {
        ctx.addIssue({
          code: 'custom',
          path: ['inferenceProfileRegions'],
          message: `model ${model.id} is a '${prefix}' inference profile: list its regions in inferenceProfileRegions.${prefix}`,
        });
      } else if (!regions.includes(p.region)) {
        // A geography's profile can only be called from its own regions (Bedrock: "The provided model identifier is invalid").
        ctx.addIssue({
          code: 'custom',
          path: ['models', i, 'id'],
          message: `${model.id}: the '${prefix}.' inference profile does not serve ${p.region} (it serves ${regions.join(', ')}); use the profile of ${p.region}'s geography or 'global.'`,
        });
      }
    });
  });

export type Params = z.infer<typeof paramsSchema>;
export type ParamsInput = z.input<typeof paramsSchema>;

/** Commercial AWS partition (where global inference profiles are offered). */
export function isCommercialRegion(region: string): boolean {
  return !/^(us-gov|cn|us-iso[a-z]?)-/.test(region);
}

/** `us.anthropic.claude-…` → `us`; a plain model id or an ARN → undefined. */
export function profilePrefix(modelId: string): string | undefined {
  if (modelId.startsWith('arn:')) return undefined;
  const parts = modelId.split('.');
  // A foundation model id is <provider>.<model>; a system inference profile adds a geography in front.
  return parts.length >= 3 && /^[a-z]+(-[a-z]+)?$/.test(parts[0]!) ? parts[0] : undefined;
}

/** Parse and explain: one line per bad value, naming it. */
export function parseParams(raw: unknown): Params {
  const result = paramsSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Invalid Switchboard deployment parameters:\n${lines.join('\n')}`);
  }
  return result.data;
}

const dottedKeys = /^(prefix|region|account|domainName|certificateArn|hostedZoneId|hostedZoneName|allowedCidrs|alarmTopicArn|logRetentionDays|(network|auth|redis|database|api|worker)\.[A-Za-z]+)$/;

/**
 * Raw parameters from, lowest to highest precedence: the JSON file named by `-c config=…`
 * (or SWITCHBOARD_CONFIG), the model catalog file (`-c modelsFile=…`, MODELS_FILE, default
 * config/models.json), CDK_DEFAULT_REGION/AWS_REGION (the account is never taken from the
 * CLI's credentials, so synth stays offline and deterministic), and single `-c key=value` overrides
 * (dotted for nested keys, e.g. `-c worker.maxTasks=12`).
 */
export function rawParamsFrom(opts: {
  context: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  baseDir: string;
}): Record<string, unknown> {
  const { context, env, baseDir } = opts;
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const configPath = (context['config'] as string | undefined) ?? env['SWITCHBOARD_CONFIG'];
  const raw: Record<string, unknown> = configPath ? JSON.parse(readFileSync(at(configPath), 'utf8')) : {};

  if (raw['models'] === undefined) {
    const modelsPath = (context['modelsFile'] as string | undefined) ?? env['MODELS_FILE'] ?? 'config/models.json';
    raw['models'] = JSON.parse(readFileSync(at(modelsPath), 'utf8'));
  }
  raw['region'] ??= env['CDK_DEFAULT_REGION'] ?? env['AWS_REGION'] ?? 'us-east-1';

  for (const [key, value] of Object.entries(context)) {
    if (!dottedKeys.test(key)) continue;
    const path = key.split('.');
    let node = raw;
    for (const segment of path.slice(0, -1)) node = (node[segment] ??= {}) as Record<string, unknown>;
    node[path.at(-1)!] = key === 'allowedCidrs' && typeof value === 'string' ? value.split(',') : value;
  }
  return raw;
}
