import { applyConfigUpdate, defaultConfig, type ConfigUpdate, type EmulatorConfig } from './config.js';
import type { ActiveFault, FaultSpec } from './faults.js';
import { createRouter } from './router.js';
import { createTransport } from './server.js';
import { EmulatorState, type EmulatorEvents, type EmulatorStats } from './state.js';

export {
  countInputTokens,
  emulatorAnswer,
  parseDirectives,
  type AnswerMessage,
  type AnswerRequest,
  type EmulatorAnswer,
  type EmulatorDirectives,
  type StopReason,
} from './answers.js';
export { DEFAULT_QUOTA, DEFAULT_TPS, DEFAULT_TTFB_MS, DEFAULT_WINDOW_MS, type ConfigUpdate, type EmulatorConfig, type EmulatorModel } from './config.js';
export { CACHE_TTL_MS, DOCUMENT_FORMATS, knownRules, type ModelRules } from './rules.js';
export { CLAUDE_3_COUNTING, DOCUMENT_INPUT_TOKENS, imageSize, imageTokens, OPUS_47_IMAGES, pngHeader, type ImageScale, type TokenCounting } from './media.js';
export { decodeFrames, eventFrame, exceptionFrame, type StreamExceptionType } from './event-stream.js';
export type { ActiveFault, FaultSpec, FaultType } from './faults.js';
export type { ModelQuota, WindowUsage } from './quota.js';
export type { EmulatorStats, Operation, Outcome, RequestRecord, StreamAbortedEvent } from './state.js';

/** Startup settings: listen address plus any config field (`models` takes catalog entries). */
export interface EmulatorOptions extends ConfigUpdate {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

/** A running emulator. */
export interface Emulator {
  /** Base URL for `endpoint` / `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, e.g. `http://127.0.0.1:4010`. */
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): EmulatorStats;
  config(): EmulatorConfig;
  /** Applies a partial config at runtime (same fields as `POST /_emulator/config`). */
  configure(update: ConfigUpdate): EmulatorConfig;
  injectFault(spec: FaultSpec): ActiveFault;
  clearFaults(): void;
  /** Clears stats, quota windows and faults; `{ config: true }` also restores the startup config. */
  reset(options?: { config?: boolean }): void;
  on<K extends keyof EmulatorEvents>(event: K, listener: (...args: EmulatorEvents[K]) => void): Emulator;
  off<K extends keyof EmulatorEvents>(event: K, listener: (...args: EmulatorEvents[K]) => void): Emulator;
}

/** Starts the emulator on one port serving HTTP/1.1, h2c and the `/_emulator/` admin API. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const { port = 0, host = '127.0.0.1', ...update } = options;
  const state = new EmulatorState(applyConfigUpdate(defaultConfig(), update));
  const transport = createTransport(createRouter(state));
  const bound = await transport.listen(port, host);
  const emulator: Emulator = {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    close: () => transport.close(),
    stats: () => state.stats(),
    config: () => structuredClone(state.config),
    configure: (u) => structuredClone(state.configure(u)),
    injectFault: (spec) => state.faults.add(spec),
    clearFaults: () => state.faults.clear(),
    reset: (o) => state.reset(o),
    on: (event, listener) => {
      state.on(event, listener as never);
      return emulator;
    },
    off: (event, listener) => {
      state.off(event, listener as never);
      return emulator;
    },
  };
  return emulator;
}
