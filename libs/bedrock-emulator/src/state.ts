import { EventEmitter } from 'node:events';
import { applyConfigUpdate, configToJson, type ConfigUpdate, type EmulatorConfig } from './config.js';
import { FaultInjector } from './faults.js';
import { QuotaTracker, type WindowUsage } from './quota.js';
import { PromptCache } from './rules.js';

export type Operation = 'converse' | 'converse-stream' | 'invoke' | 'invoke-with-response-stream';

/** How a request ended. */
export type Outcome = 'completed' | 'rejected' | 'aborted' | 'stream-error';

/** One finished request, as `stats().recent` and the `request` event report it. */
export interface RequestRecord {
  id: string;
  /** Arrival time, ISO 8601 and epoch ms. */
  at: string;
  time: number;
  modelId: string;
  operation: Operation;
  protocol: 'http/1.1' | 'h2';
  /** Which Authorization scheme the client used (signatures are not verified). */
  auth: 'sigv4' | 'bearer' | 'none';
  /** HTTP status sent (200 for a stream that later failed mid-way). */
  status: number;
  /** `output_config.effort` the request asked for (Converse), when it asked. */
  effort?: string;
  /** Modeled error name, e.g. ThrottlingException or modelStreamErrorException. */
  errorType?: string;
  outcome: Outcome;
  inputTokens: number;
  outputTokens: number;
  durationMs: number;
}

export interface EmulatorStats {
  startedAt: string;
  requests: {
    total: number;
    byStatus: Record<string, number>;
    byModel: Record<string, { total: number; byStatus: Record<string, number> }>;
  };
  /** 429 responses sent (quota and injected). */
  throttled: number;
  streams: { started: number; completed: number; abortedByClient: number; failed: number; active: number };
  tokens: { input: number; output: number };
  window: { windowMs: number; byModel: Record<string, WindowUsage> };
  recent: RequestRecord[];
}

export interface StreamAbortedEvent {
  id: string;
  modelId: string;
  operation: Operation;
  /** Deltas written before the client went away. */
  outputTokens: number;
}

export interface EmulatorEvents {
  request: [RequestRecord];
  streamAborted: [StreamAbortedEvent];
}

const RECENT_LIMIT = 500;

/** Mutable emulator state shared by the routes and the admin API. */
export class EmulatorState extends EventEmitter<EmulatorEvents> {
  config: EmulatorConfig;
  readonly quota: QuotaTracker;
  readonly faults = new FaultInjector();
  readonly promptCache = new PromptCache();
  private counters = emptyCounters();
  private recent: RequestRecord[] = [];
  private activeStreams = 0;
  private nextRequest = 1;

  constructor(private readonly initialConfig: EmulatorConfig) {
    super();
    this.config = structuredClone(initialConfig);
    this.quota = new QuotaTracker(initialConfig.windowMs);
  }

  configure(update: ConfigUpdate): EmulatorConfig {
    this.config = applyConfigUpdate(this.config, update);
    this.quota.setWindowMs(this.config.windowMs);
    return this.config;
  }

  /** Clears stats, quota windows and faults; `config: true` also restores the startup config. */
  reset(options: { config?: boolean } = {}): void {
    this.counters = emptyCounters();
    this.recent = [];
    this.quota.reset();
    this.faults.clear();
    this.promptCache.clear();
    if (options.config) {
      this.config = structuredClone(this.initialConfig);
      this.quota.setWindowMs(this.config.windowMs);
    }
  }

  newRequestId(): string {
    return `emu-${process.pid}-${this.nextRequest++}`;
  }

  streamStarted(): void {
    this.counters.streams.started += 1;
    this.activeStreams += 1;
  }

  streamEnded(outcome: Outcome, event?: StreamAbortedEvent): void {
    this.activeStreams -= 1;
    if (outcome === 'completed') this.counters.streams.completed += 1;
    else if (outcome === 'aborted') this.counters.streams.abortedByClient += 1;
    else this.counters.streams.failed += 1;
    if (event) this.emit('streamAborted', event);
  }

  record(record: RequestRecord): void {
    const c = this.counters;
    const status = String(record.status);
    c.requests.total += 1;
    c.requests.byStatus[status] = (c.requests.byStatus[status] ?? 0) + 1;
    const m = (c.requests.byModel[record.modelId] ??= { total: 0, byStatus: {} });
    m.total += 1;
    m.byStatus[status] = (m.byStatus[status] ?? 0) + 1;
    if (record.status === 429) c.throttled += 1;
    c.tokens.input += record.outcome === 'rejected' ? 0 : record.inputTokens;
    c.tokens.output += record.outputTokens;
    this.recent.push(record);
    if (this.recent.length > RECENT_LIMIT * 2) this.recent = this.recent.slice(-RECENT_LIMIT);
    this.emit('request', record);
  }

  stats(): EmulatorStats {
    const byModel: Record<string, WindowUsage> = {};
    for (const id of new Set([...this.quota.models(), ...Object.keys(this.config.models)])) {
      const settings = this.config.models[id] ?? this.config.defaultModel;
      byModel[id] = this.quota.usage(id, settings.quota);
    }
    return {
      ...structuredClone(this.counters),
      streams: { ...this.counters.streams, active: this.activeStreams },
      window: { windowMs: this.config.windowMs, byModel },
      recent: this.recent.slice(-RECENT_LIMIT),
    };
  }

  configJson(): Record<string, unknown> {
    return configToJson(this.config);
  }
}

function emptyCounters(): Omit<EmulatorStats, 'window' | 'recent' | 'streams'> & { streams: Omit<EmulatorStats['streams'], 'active'> } {
  return {
    startedAt: new Date().toISOString(),
    requests: { total: 0, byStatus: {}, byModel: {} },
    throttled: 0,
    streams: { started: 0, completed: 0, abortedByClient: 0, failed: 0 },
    tokens: { input: 0, output: 0 },
  };
}
