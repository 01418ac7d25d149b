import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  BedrockRuntimeClient,
  type ConverseCommand,
  type ConverseCommandOutput,
  type ConverseStreamCommand,
  type ConverseStreamCommandOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { AwsRestJsonProtocol } from '@aws-sdk/core/protocols';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AppConfig } from '@switchboard/server-core';
import { ConverseStreamReader, type EventStreamCapability } from './converse-stream-reader.js';

/**
 * HTTP/1.1 with keep-alive connections that later calls reuse. The client's default, HTTP/2, opens
 * a session of its own for every call (`disableConcurrentStreams`, and always for event streams
 * such as ConverseStream): a TCP and TLS handshake per chat, their CPU on both ends and their
 * round trips before the first token (issue 19).
 * Bedrock serves Converse and ConverseStream over HTTP/1.1 too (only the bidirectional stream,
 * unused here, needs HTTP/2). No socket cap: the job slots bound the calls, and an agent queue
 * would hold calls back unseen by the quota governor. TCP keep-alive probes every 30 s keep a
 * long quiet call (thinking) alive through NAT and load balancer idle timeouts.
 */
export function bedrockRequestHandler(): NodeHttpHandler {
  const agent = { keepAlive: true, keepAliveMsecs: 30_000, maxSockets: Infinity };
  return new SignalledHttpHandler({ httpAgent: new HttpAgent(agent), httpsAgent: new HttpsAgent(agent) });
}

type HttpRequest = Parameters<NodeHttpHandler['handle']>[0];

/** Each call's abort signal, by its command's input (sendToBedrock), then by its signed request. */
const signalOfInput = new WeakMap<object, AbortSignal>();
const signalOfRequest = new WeakMap<HttpRequest, AbortSignal>();

/**
 * Sends a command that `signal` stops (a cancel, a hand-over), like `client.send(command,
 * { abortSignal })`. That way, though, the client resolves its middleware stack anew for every call
 * (and drops the one it keeps, `cacheMiddleware`): some 0.3 ms of CPU a call (issue 19, bench:sdk).
 * Here the signal travels with the command's input to the request handler (SignalledHttpHandler).
 */
export function sendToBedrock(client: BedrockRuntimeClient, command: ConverseStreamCommand, signal?: AbortSignal): Promise<ConverseStreamCommandOutput>;
export function sendToBedrock(client: BedrockRuntimeClient, command: ConverseCommand, signal?: AbortSignal): Promise<ConverseCommandOutput>;
export function sendToBedrock(client: BedrockRuntimeClient, command: ConverseCommand | ConverseStreamCommand, signal?: AbortSignal): Promise<unknown> {
  if (signal) signalOfInput.set(command.input, signal);
  else signalOfInput.delete(command.input);
  return client.send(command as ConverseCommand);
}

/** The request handler, given the abort signal of the call each request belongs to (sendToBedrock). */
class SignalledHttpHandler extends NodeHttpHandler {
  override handle(request: HttpRequest, options: Parameters<NodeHttpHandler['handle']>[1] = {}) {
    const abortSignal = signalOfRequest.get(request);
    return super.handle(request, abortSignal ? { ...options, abortSignal } : options);
  }
}

type EventStreamSerde = Awaited<ReturnType<AwsRestJsonProtocol['loadEventStreamCapability']>>;

/**
 * Bedrock's own protocol (the client's default), with its event-stream reading made once instead
 * of for every ConverseStream call: the SDK builds it per call behind a `require` that Node
 * resolves anew each time, some 6 % of the SDK's CPU for a short answer (issue 19). It holds only
 * what the protocol holds (codec, serde context set once when the client is built), so sharing it
 * between calls changes nothing else. ConverseStream's answers are read by ConverseStreamReader,
 * with the SDK's reading behind it for what it does not read itself.
 */
export class BedrockProtocol extends AwsRestJsonProtocol {
  private eventStreams?: Promise<EventStreamSerde>;

  protected override loadEventStreamCapability() {
    const sdkReading = () => super.loadEventStreamCapability();
    const load = async () => new ConverseStreamReader((await sdkReading()) as unknown as EventStreamCapability) as unknown as EventStreamSerde;
    // A failed load is not kept: the next call tries again.
    return (this.eventStreams ??= load().catch((err: unknown) => {
      this.eventStreams = undefined;
      throw err;
    }));
  }
}

/**
 * The real SDK, against Bedrock or the emulator (AWS_ENDPOINT_URL_BEDROCK_RUNTIME). The SDK's own
 * retries are off: every retry goes back through the queue so the quota governor counts it.
 */
export function createBedrockClient(config: AppConfig): BedrockRuntimeClient {
  if (config.bedrockMode === 'emulator' && !config.aws.bedrockEndpoint) {
    throw new Error('BEDROCK_MODE=emulator needs AWS_ENDPOINT_URL_BEDROCK_RUNTIME (start one with `npm run emulator`)');
  }
  const useDummyCredentials = config.bedrockMode === 'emulator' && !config.aws.credentialsPresent;
  const client = new BedrockRuntimeClient({
    region: config.aws.region,
    maxAttempts: 1,
    requestHandler: bedrockRequestHandler(),
    protocol: BedrockProtocol,
    // One resolved middleware stack per command type, kept for every call sent without options (sendToBedrock).
    cacheMiddleware: true,
    ...(config.aws.bedrockEndpoint ? { endpoint: config.aws.bedrockEndpoint } : {}),
    ...(useDummyCredentials ? { credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } } : {}),
  });
  // Last before the handler (after signing, which makes the request anew): the call's signal goes with its request.
  client.middlewareStack.add(
    (next) => (args) => {
      const signal = signalOfInput.get(args.input as object);
      if (signal) signalOfRequest.set(args.request as HttpRequest, signal);
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'callAbortSignal' },
  );
  return client;
}

type Preconnect = {
  handle(
    request: { protocol: string; hostname: string; port?: number; method: string; path: string; query: object; headers: Record<string, string> },
    options?: { requestTimeout?: number },
  ): Promise<{ response: { statusCode: number; body?: unknown } }>;
};

/**
 * Opens `config.bedrockPoolWarm` keep-alive connections to Bedrock through the client's handler
 * before the worker takes jobs, and resolves the credentials: the first burst after boot reuses
 * them instead of paying a TCP and TLS handshake per call (issue 19: opening 200 of them mid-burst
 * was about a quarter of the cold round's added time to first token). Each is one unsigned GET of
 * `/`, all at once so that each needs a connection of its own: Bedrock answers it with an error at
 * once; it is no model call and costs nothing. Best effort: resolves to the status codes of the
 * connections that answered.
 */
export async function preconnectBedrock(client: BedrockRuntimeClient, config: AppConfig): Promise<number[]> {
  // The credentials too (in AWS a fetch from the container or instance metadata): the first call would wait for them.
  const credentials = client.config.credentials as unknown;
  if (typeof credentials === 'function') await (credentials as () => Promise<unknown>)();
  const url = new URL(config.aws.bedrockEndpoint ?? `https://bedrock-runtime.${config.aws.region}.amazonaws.com`);
  const handler = client.config.requestHandler as unknown as Preconnect;
  if (typeof handler?.handle !== 'function') return [];
  const open = async () => {
    const { response } = await handler.handle(
      { protocol: url.protocol, hostname: url.hostname, ...(url.port ? { port: Number(url.port) } : {}), method: 'GET', path: '/', query: {}, headers: { host: url.host } },
      { requestTimeout: 5000 },
    );
    // Read to its end: only then does the connection go back to the pool for the next call.
    if (response.body instanceof Readable) await finished(response.body.resume());
    return response.statusCode;
  };
  const opened = await Promise.allSettled(Array.from({ length: config.bedrockPoolWarm }, open));
  const answered = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  if (config.bedrockPoolWarm > 0 && answered.length === 0) throw (opened[0] as PromiseRejectedResult).reason;
  return answered;
}

const retryableErrorNames = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelStreamErrorException',
  'ModelTimeoutException',
  'ModelNotReadyException',
  'TimeoutError',
]);
const networkErrorCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_SESSION_ERROR']);

/** Whether another attempt may succeed: throttling, 5xx, stream errors and network failures. */
export function isRetryableBedrockError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e?.name && retryableErrorNames.has(e.name)) return true;
  if (e?.code && networkErrorCodes.has(e.code)) return true;
  if (e?.$retryable) return true;
  const status = e?.$metadata?.httpStatusCode;
  return typeof status === 'number' && (status === 429 || status >= 500);
}

/** A contract error code for a Bedrock failure. */
export function errorCodeOf(err: unknown): 'throttled' | 'model_not_found' | 'bad_request' | 'model_error' {
  const name = (err as { name?: string })?.name;
  if (name === 'ThrottlingException') return 'throttled';
  if (name === 'ResourceNotFoundException') return 'model_not_found';
  if (name === 'ValidationException') return 'bad_request';
  return 'model_error';
}
