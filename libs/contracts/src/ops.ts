/**
 * The Operations picture (`ops:snapshot` on the `/ops` namespace, `GET /v1/admin/ops`). Built by
 * the API from Redis only — governor state, BullMQ counts, heartbeats — never from the database.
 * Times are epoch milliseconds; durations are milliseconds.
 */
export type OpsSnapshot = {
  at: number;
  /** The governor's quota window (Bedrock's minute; tests shorten it). */
  windowMs: number;
  models: OpsModel[];
  queues: OpsQueue[];
  oldestWaiting: { queue: string; jobId: string; waitingMs: number } | null;
  workers: OpsWorker[];
  apiNodes: OpsApiNode[];
};

export type OpsModel = {
  id: string;
  name: string;
  quota: { requestsPerMinute: number; tokensPerMinute: number };
  /** Reserved or used in the current quota window. */
  window: { requests: number; tokens: number };
  waiting: { chat: number; batch: number };
  /** Time left in a back-off after Bedrock throttled (0: none). */
  blockedForMs: number;
  /** Time to first token of chats over the last 5 minutes (null: no chat). */
  ttft: { p50Ms: number; p95Ms: number; samples: number } | null;
  /** One entry per minute, oldest first, the last 60 minutes (the current minute last). */
  history: OpsMinute[];
};

export type OpsMinute = { minute: number; requests: number; tokens: number; throttles: number; deferrals: number };

export type OpsQueue = {
  name: string;
  lane: 'chat' | 'batch';
  waiting: number;
  delayed: number;
  active: number;
  failed: number;
};

export type OpsWorker = {
  id: string;
  host: string;
  pid: number;
  /** Jobs this worker may run at once, and runs now. */
  slots: number;
  slotsInUse: number;
  /** Chat answers streaming from this worker now. */
  streams: number;
  since: number;
  lastHeartbeat: number;
  draining: boolean;
};

export type OpsApiNode = { id: string; host: string; pid: number; sockets: number; watchedJobs: number; since: number; lastHeartbeat: number };
