/**
 * What the AWS SDK alone costs the worker per streamed call: CPU ms of this process per
 * ConverseStream call against the emulator, each with an abort signal as the worker sends them:
 * the SDK's defaults (`client.send(command, { abortSignal })`, the worker's request handler), the
 * worker's client with the SDK's own event-stream reading (as before ConverseStreamReader) and the
 * worker's client (`createBedrockClient`, `sendToBedrock`), at two answer lengths (so the cost
 * per call and per token come apart). Nothing else runs in this process; the emulator is a child
 * process.
 *
 *   npm run bench:sdk    (CHATS=200 SPREAD_MS=2000 TOKENS=4,40 TPS=20 TTFB=200 ROUNDS=3 by default)
 *
 * Each round is CHATS calls arriving evenly over SPREAD_MS, read to their end; the variants take
 * turns round by round (after two unmeasured rounds each), so a drift of the host's speed hits all of them.
 */
import { join } from 'node:path';
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig, ConverseStreamCommand, type ConverseStreamCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import { AwsRestJsonProtocol } from '@aws-sdk/core/protocols';
import { loadConfig } from '@switchboard/server-core';
import { bedrockRequestHandler, createBedrockClient, sendToBedrock } from '../worker/src/bedrock/bedrock-client.js';
import { spawnProcess, stopProcess } from '../tests/integration/support/stack.js';
import { pct } from './percentile.js';

const chats = Number(process.env.CHATS ?? 200);
const spreadMs = Number(process.env.SPREAD_MS ?? 2000);
const tokenCounts = (process.env.TOKENS ?? '4,40').split(',').map(Number);
const tps = Number(process.env.TPS ?? 20);
const ttfb = Number(process.env.TTFB ?? 200);
const rounds = Number(process.env.ROUNDS ?? 3);
const modelId = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const emulator = await spawnProcess('emulator', join(import.meta.dirname, '../libs/bedrock-emulator/dist/cli.js'), {}, /listening on (http:\S+)/, [
  '--port', process.env.EMULATOR_PORT ?? '0', '--tps', String(tps), '--ttfb', String(ttfb),
]);

type Send = (command: ConverseStreamCommand, signal: AbortSignal) => Promise<ConverseStreamCommandOutput>;
/** A client of the emulator with the worker's request handler and no retries, plus `settings`. */
const benchClient = (settings: Partial<BedrockRuntimeClientConfig> = {}) =>
  new BedrockRuntimeClient({
    region: 'us-east-1',
    maxAttempts: 1,
    endpoint: emulator.url!,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    requestHandler: bedrockRequestHandler(),
    ...settings,
  });
const sdkDefaults = benchClient();
const workers = createBedrockClient(loadConfig({ BEDROCK_MODE: 'emulator', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url!, AUTH_MODE: 'local' }));

/** The worker's client as it was before ConverseStreamReader: the SDK's own event-stream reading, made once. */
class SdkReadingProtocol extends AwsRestJsonProtocol {
  private eventStreams?: ReturnType<AwsRestJsonProtocol['loadEventStreamCapability']>;
  protected override loadEventStreamCapability() {
    return (this.eventStreams ??= super.loadEventStreamCapability());
  }
}
const sdkReading = benchClient({ protocol: SdkReadingProtocol, cacheMiddleware: true });

/** CPU ms of this process per call over one round of `chats` calls answering `tokens` tokens each. */
async function round(send: Send, tokens: number): Promise<number> {
  const call = async (i: number) => {
    await sleep((i * spreadMs) / chats);
    const text = `SDK bench ${i} [[emulator:tokens=${tokens}]]`;
    const response = await send(new ConverseStreamCommand({ modelId, messages: [{ role: 'user', content: [{ text }] }], inferenceConfig: { maxTokens: 4096 } }), new AbortController().signal);
    let deltas = 0;
    for await (const event of response.stream ?? []) if (event.contentBlockDelta?.delta?.text) deltas++;
    if (deltas !== tokens) throw new Error(`call ${i}: ${deltas} deltas, expected ${tokens}`);
  };
  const start = process.cpuUsage();
  await Promise.all(Array.from({ length: chats }, (_, i) => call(i)));
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / chats;
}

const variants: { name: string; send: Send }[] = [
  { name: 'SDK defaults', send: (command, abortSignal) => sdkDefaults.send(command, { abortSignal }) },
  { name: 'SDK reading', send: (command, signal) => sendToBedrock(sdkReading, command, signal) },
  { name: "worker's client", send: (command, signal) => sendToBedrock(workers, command, signal) },
];
console.log(`${chats} ConverseStream calls over ${spreadMs / 1000} s per round, ${tps} tokens/s, TTFB ${ttfb} ms; median of ${rounds} rounds`);
const results = new Map<string, number>();
for (const tokens of tokenCounts) {
  for (let r = 0; r < 2; r++) for (const v of variants) await round(v.send, tokens); // unmeasured: V8 compiles the path
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) for (const v of variants) samples.get(v.name)!.push(await round(v.send, tokens));
  for (const v of variants) {
    const ms = pct(samples.get(v.name)!, 50);
    results.set(`${v.name}@${tokens}`, ms);
    console.log(`  ${String(tokens).padStart(4)} tokens  ${v.name.padEnd(16)} ${ms.toFixed(3)} ms CPU per call  (rounds: ${samples.get(v.name)!.map((x) => x.toFixed(3)).join(', ')})`);
  }
}
if (tokenCounts.length >= 2) {
  const [low, high] = [Math.min(...tokenCounts), Math.max(...tokenCounts)];
  for (const v of variants) {
    const perToken = (results.get(`${v.name}@${high}`)! - results.get(`${v.name}@${low}`)!) / (high - low);
    const perCall = results.get(`${v.name}@${low}`)! - perToken * low;
    console.log(`${v.name}: ${perCall.toFixed(3)} ms per call before any token, ${(perToken * 1000).toFixed(1)} µs per token`);
  }
}
sdkDefaults.destroy();
sdkReading.destroy();
workers.destroy();
await stopProcess(emulator);
