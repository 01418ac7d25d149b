import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type ConverseStreamCommandInput,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { decodeFrames, emulatorAnswer, pngHeader, startEmulator, type Emulator, type StreamAbortedEvent } from './index.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const MODEL = 'anthropic.claude-3-sonnet-20240229-v1:0';
type Protocol = 'h2' | 'http/1.1';

let emu: Emulator;
const clients: BedrockRuntimeClient[] = [];

/** The SDK default handler speaks h2c to an http:// endpoint; NodeHttpHandler speaks HTTP/1.1. */
function client(protocol: Protocol = 'h2', maxAttempts = 1): BedrockRuntimeClient {
  const c = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: emu.url,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts,
    ...(protocol === 'http/1.1'
      ? { requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: 256 }) }) }
      : {}),
  });
  clients.push(c);
  return c;
}

const ask = (text: string, extra: Partial<ConverseStreamCommandInput> = {}): ConverseStreamCommandInput => ({
  modelId: MODEL,
  messages: [{ role: 'user', content: [{ text }] }],
  ...extra,
});

async function converseStream(c: BedrockRuntimeClient, input: ConverseStreamCommandInput, abortSignal?: AbortSignal) {
  const out = await c.send(new ConverseStreamCommand(input), { abortSignal });
  const events: string[] = [];
  let text = '';
  let stopReason: string | undefined;
  let usage: { inputTokens?: number; outputTokens?: number; totalTokens?: number } | undefined;
  for await (const event of out.stream!) {
    events.push(Object.keys(event).find((k) => (event as unknown as Record<string, unknown>)[k] !== undefined)!);
    if (event.contentBlockDelta) text += event.contentBlockDelta.delta?.text ?? '';
    if (event.messageStop) stopReason = event.messageStop.stopReason;
    if (event.metadata) usage = event.metadata.usage;
  }
  return { text, stopReason, usage, events };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; $fault?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${emu.url}/_emulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

beforeAll(async () => {
  emu = await startEmulator({ tps: 50_000, ttfbMs: 0 });
});

afterEach(() => emu.reset({ config: true }));

afterAll(async () => {
  for (const c of clients) c.destroy();
  await emu.close();
});

describe.each<Protocol>(['h2', 'http/1.1'])('ConverseStream over %s', (protocol) => {
  it('streams the deterministic answer with Bedrock’s event sequence and usage', async () => {
    const input = ask('Explain queues please', { system: [{ text: 'You are helpful.' }] });
    const expected = emulatorAnswer(input);
    const got = await converseStream(client(protocol), input);
    expect(got.text).toBe(expected.text);
    expect(got.stopReason).toBe('end_turn');
    expect(got.usage).toEqual({ inputTokens: expected.inputTokens, outputTokens: expected.outputTokens, totalTokens: expected.inputTokens + expected.outputTokens });
    expect(got.events[0]).toBe('messageStart');
    expect(got.events.slice(1, -3).every((e) => e === 'contentBlockDelta')).toBe(true);
    expect(got.events.slice(-3)).toEqual(['contentBlockStop', 'messageStop', 'metadata']);
    expect(emu.stats().recent.at(-1)).toMatchObject({ protocol, auth: 'sigv4', operation: 'converse-stream', status: 200, outcome: 'completed' });
  });

  it('stops at maxTokens with stopReason max_tokens', async () => {
    const got = await converseStream(client(protocol), ask('long one [[emulator:tokens=300]]', { inferenceConfig: { maxTokens: 25 } }));
    expect(got.stopReason).toBe('max_tokens');
    expect(got.usage?.outputTokens).toBe(25);
    expect(got.events.filter((e) => e === 'contentBlockDelta')).toHaveLength(25);
  });

  it('closes the stream when the SDK aborts, and counts the abort', async () => {
    const aborted: StreamAbortedEvent[] = [];
    emu.on('streamAborted', (e) => aborted.push(e));
    const controller = new AbortController();
    const out = await client(protocol).send(new ConverseStreamCommand(ask('slow [[emulator:tokens=5000,tps=200]]')), {
      abortSignal: controller.signal,
    });
    let deltas = 0;
    // Depending on the handler the SDK either throws (HTTP/1.1) or just ends the iteration (h2).
    await (async () => {
      for await (const event of out.stream!) {
        if (event.contentBlockDelta && ++deltas === 5) controller.abort();
      }
    })().catch(() => undefined);
    expect(deltas).toBeLessThan(100);
    await until(() => aborted.length === 1);
    expect(aborted[0]!.outputTokens).toBeLessThan(100);
    const stats = emu.stats();
    expect(stats.streams).toMatchObject({ started: 1, abortedByClient: 1, completed: 0, active: 0 });
    expect(stats.recent.at(-1)).toMatchObject({ outcome: 'aborted', protocol });
  });
});

describe('Converse and InvokeModel', () => {
  it('Converse returns the answer, usage and metrics', async () => {
    const input = ask('What is Redis?');
    const expected = emulatorAnswer(input);
    const out = await client().send(new ConverseCommand(input));
    expect(out.output?.message?.content?.[0]?.text).toBe(expected.text);
    expect(out.stopReason).toBe('end_turn');
    expect(out.usage).toEqual({ inputTokens: expected.inputTokens, outputTokens: expected.outputTokens, totalTokens: expected.inputTokens + expected.outputTokens });
    expect(out.metrics?.latencyMs).toEqual(expect.any(Number));
  });

  const anthropicBody = (text: string, maxTokens = 1000) => ({
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: maxTokens,
    system: 'Be brief.',
    messages: [{ role: 'user', content: [{ type: 'text', text }] }],
  });

  it.each<Protocol>(['h2', 'http/1.1'])('InvokeModel returns an Anthropic message (%s)', async (protocol) => {
    const body = anthropicBody('Hello [[emulator:tokens=40]]', 30);
    const out = await client(protocol).send(new InvokeModelCommand({ modelId: MODEL, body: JSON.stringify(body), contentType: 'application/json' }));
    const message = JSON.parse(new TextDecoder().decode(out.body));
    const expected = emulatorAnswer({ modelId: MODEL, ...body });
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: expected.text }],
      stop_reason: 'max_tokens',
      usage: { input_tokens: expected.inputTokens, output_tokens: 30 },
    });
  });

  it('InvokeModelWithResponseStream sends Anthropic chunk events with invocation metrics', async () => {
    const body = anthropicBody('Stream me');
    const out = await client().send(
      new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body: JSON.stringify(body), contentType: 'application/json' }),
    );
    const events: any[] = [];
    for await (const event of out.body!) events.push(JSON.parse(new TextDecoder().decode(event.chunk!.bytes)));
    const expected = emulatorAnswer({ modelId: MODEL, ...body });
    expect(events.map((e) => e.type).filter((t, i, all) => all[i - 1] !== t)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text).join('')).toBe(expected.text);
    expect(events.at(-2).delta.stop_reason).toBe('end_turn');
    expect(events.at(-1)['amazon-bedrock-invocationMetrics']).toMatchObject({
      inputTokenCount: expected.inputTokens,
      outputTokenCount: expected.outputTokens,
    });
  });

  it('InvokeModel refuses what Bedrock refuses for the model: prefill, sampling, thinking type, effort', async () => {
    const invoke = (modelId: string, extra: Record<string, unknown>, messages?: unknown[]) =>
      client()
        .send(new InvokeModelCommand({ modelId, body: JSON.stringify({ ...anthropicBody('Hello'), ...(messages ? { messages } : {}), ...extra }), contentType: 'application/json' }))
        .then(
          () => 'accepted',
          (err: Error) => err.message,
        );
    const opus47 = 'us.anthropic.claude-opus-4-7';
    const prefill = [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi' },
    ];
    expect(await invoke(opus47, {}, prefill)).toMatch(/does not support assistant message prefill/);
    expect(await invoke('global.anthropic.claude-sonnet-4-5-20250929-v1:0', {}, prefill)).toBe('accepted');
    expect(await invoke(opus47, { temperature: 0.5 })).toMatch(/`temperature` is not supported for this model/);
    expect(await invoke(opus47, { thinking: { type: 'enabled', budget_tokens: 2000 } })).toMatch(/"thinking.type.enabled" is not supported/);
    expect(await invoke('global.anthropic.claude-sonnet-4-5-20250929-v1:0', { output_config: { effort: 'low' } })).toMatch(/does not support the effort parameter/);
    expect(await invoke(opus47, { thinking: { type: 'adaptive' }, output_config: { effort: 'xhigh' } })).toBe('accepted');
  });

  it('pads every streamed event with a `p` of varying length, as Bedrock does (the SDK drops it)', async () => {
    const raw = async (operation: string, body: unknown) => {
      const url = `${emu.url}/model/${encodeURIComponent(MODEL)}/${operation}`;
      const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: 'Bearer abc' } });
      return decodeFrames(new Uint8Array(await res.arrayBuffer()));
    };
    const converse = await raw('converse-stream', ask('pad me [[emulator:tokens=6]]'));
    expect(converse.map((f) => f.headers[':event-type'])).toEqual(['messageStart', ...Array(6).fill('contentBlockDelta'), 'contentBlockStop', 'messageStop', 'metadata']);
    const invoke = await raw('invoke-with-response-stream', anthropicBody('pad me [[emulator:tokens=6]]'));
    expect(invoke.every((f) => f.headers[':event-type'] === 'chunk')).toBe(true);
    for (const frames of [converse, invoke]) {
      const pads = frames.map((f) => (f.body as { p?: unknown }).p);
      expect(pads.every((p) => typeof p === 'string' && /^[a-zA-Z0-9]+$/.test(p))).toBe(true);
      expect(new Set(pads.map((p) => (p as string).length)).size).toBeGreaterThan(1);
    }
    const sdk = await converseStream(client('http/1.1'), ask('pad me [[emulator:tokens=6]]'));
    expect(sdk.events).toHaveLength(10);
    expect(JSON.stringify(sdk)).not.toContain('"p"');
  });

  it('rejects a malformed Anthropic body with ValidationException', async () => {
    const err = await rejection(client().send(new InvokeModelCommand({ modelId: MODEL, body: JSON.stringify({ messages: [] }) })));
    expect(err.name).toBe('ValidationException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });

  it('accepts URL-encoded inference-profile ARNs as model ids', async () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0';
    const got = await converseStream(client(), { ...ask('hi'), modelId: arn });
    expect(got.stopReason).toBe('end_turn');
    expect(emu.stats().requests.byModel[arn]).toEqual({ total: 1, byStatus: { '200': 1 } });
  });
});

describe('validation and auth', () => {
  it('rejects maxTokens above the model limit and unknown models in strict mode', async () => {
    emu.configure({ models: [{ id: MODEL, maxOutputTokens: 4096, contextWindow: 100 }] });
    const tooMany = await rejection(converseStream(client(), ask('hi', { inferenceConfig: { maxTokens: 5000 } })));
    expect(tooMany.name).toBe('ValidationException');
    expect(tooMany.message).toContain('4096');
    // A model given only a quota keeps Bedrock's output limit for its id (Claude 3 Haiku: 4096).
    const haiku3 = 'anthropic.claude-3-haiku-20240307-v1:0';
    emu.configure({ quotas: { [haiku3]: { requestsPerMinute: 1000 } } });
    expect((await rejection(converseStream(client(), { ...ask('hi', { inferenceConfig: { maxTokens: 5000 } }), modelId: haiku3 }))).message).toContain('4096');
    const tooLong = await rejection(converseStream(client(), ask('x'.repeat(404))));
    expect(tooLong.message).toBe('Input is too long for requested model.');
    // Non-strict: unknown models work with the default settings.
    await expect(converseStream(client(), { ...ask('hi'), modelId: 'unknown.model-v1:0' })).resolves.toMatchObject({ stopReason: 'end_turn' });
    emu.configure({ strict: true });
    const unknown = await rejection(converseStream(client(), { ...ask('hi'), modelId: 'unknown.model-v1:0' }));
    expect(unknown.name).toBe('ValidationException');
    expect(unknown.$metadata?.httpStatusCode).toBe(400);
  });

  it('rejects a conversation that does not start with a user message', async () => {
    const err = await rejection(converseStream(client(), { modelId: MODEL, messages: [{ role: 'assistant', content: [{ text: 'x' }] }] }));
    expect(err.name).toBe('ValidationException');
  });

  it('is reachable through AWS_ENDPOINT_URL_BEDROCK_RUNTIME and an API key (bearer) as well', async () => {
    process.env['AWS_ENDPOINT_URL_BEDROCK_RUNTIME'] = emu.url;
    process.env['AWS_BEARER_TOKEN_BEDROCK'] = 'bedrock-api-key-example';
    try {
      const c = new BedrockRuntimeClient({ region: 'us-east-1', maxAttempts: 1 });
      clients.push(c);
      const out = await c.send(new ConverseCommand(ask('env endpoint')));
      expect(out.stopReason).toBe('end_turn');
      expect(emu.stats().recent.at(-1)).toMatchObject({ auth: 'bearer', protocol: 'h2' });
    } finally {
      delete process.env['AWS_ENDPOINT_URL_BEDROCK_RUNTIME'];
      delete process.env['AWS_BEARER_TOKEN_BEDROCK'];
    }
  });

  it('needs an Authorization header (SigV4 or Bearer), without verifying it', async () => {
    const url = `${emu.url}/model/${encodeURIComponent(MODEL)}/converse`;
    const body = JSON.stringify(ask('hi'));
    const missing = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(missing.status).toBe(403);
    expect(missing.headers.get('x-amzn-errortype')).toMatch(/^UnrecognizedClientException:/);
    const bearer = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: 'Bearer abc' } });
    expect(bearer.status).toBe(200);
    expect(((await bearer.json()) as { stopReason: string }).stopReason).toBe('end_turn');
  });
});

describe('quota', () => {
  it('answers 429 ThrottlingException over the requests-per-window quota, sliding', async () => {
    // Seconds, not milliseconds, so a loaded CI machine keeps the order of events.
    emu.configure({ windowMs: 2_000, quotas: { [MODEL]: { requestsPerMinute: 2 } } });
    const c = client();
    const t0 = Date.now();
    await converseStream(c, ask('one'));
    await sleep(t0 + 1_000 - Date.now());
    await converseStream(c, ask('two'));
    const err = await rejection(converseStream(c, ask('three')));
    expect(err.name).toBe('ThrottlingException');
    expect(err.message).toBe('Too many requests, please wait before trying again.');
    expect(err.$metadata?.httpStatusCode).toBe(429);
    expect(err.$fault).toBe('client');
    // Another model has its own quota.
    await converseStream(c, { ...ask('x'), modelId: 'anthropic.claude-3-haiku-20240307-v1:0' });
    // Sliding, not fixed: after 2 s only the first request has left the window.
    await sleep(t0 + 2_050 - Date.now());
    await converseStream(c, ask('four'));
    expect((await rejection(converseStream(c, ask('five')))).name).toBe('ThrottlingException');
    const stats = emu.stats();
    expect(stats.throttled).toBe(2);
    expect(stats.requests.byModel[MODEL]!.byStatus).toEqual({ '200': 3, '429': 2 });
    expect(stats.window.byModel[MODEL]).toMatchObject({ requests: 2, requestsPerMinute: 2 });
  });

  it('reserves input + maxTokens at admission and corrects to actual usage at the end', async () => {
    emu.configure({ windowMs: 10_000, quotas: { [MODEL]: { tokensPerMinute: 1_000 } } });
    const c = client();
    const text = 'slow [[emulator:tokens=400,tps=800]]'; // 9 input tokens, streams for 0.5 s
    const inFlight = converseStream(c, ask(text, { inferenceConfig: { maxTokens: 900 } }));
    await until(() => emu.stats().streams.active === 1);
    // 909 reserved while it streams: 1 + 100 more does not fit.
    const err = await rejection(converseStream(c, ask('abcd', { inferenceConfig: { maxTokens: 100 } })));
    expect(err.name).toBe('ThrottlingException');
    expect(err.message).toBe('Too many tokens, please wait before trying again.');
    await inFlight;
    expect(emu.stats().window.byModel[MODEL]!.tokens).toBe(409); // settled to 9 + 400
    await converseStream(c, ask('abcd', { inferenceConfig: { maxTokens: 500 } })); // 409 + 501 fits
    expect(emu.stats().window.byModel[MODEL]!.tokens).toBeGreaterThan(409);
  });

  it('counts output tokens 5 times for Claude 3.7 and 4.x models (Bedrock burndown), as a catalog may say for others', async () => {
    const sonnet45 = 'global.anthropic.claude-sonnet-4-5-20250929-v1:0';
    emu.configure({ windowMs: 10_000, quotas: { [sonnet45]: { tokensPerMinute: 1_000 }, [MODEL]: { tokensPerMinute: 1_000 } } });
    const c = client();
    // 1 input + 5 × 200 reserved: over 1,000 for Sonnet 4.5, while Claude 3 Sonnet takes it.
    const err = await rejection(converseStream(c, { ...ask('abcd', { inferenceConfig: { maxTokens: 200 } }), modelId: sonnet45 }));
    expect(err.name).toBe('ThrottlingException');
    expect(err.message).toBe('Too many tokens, please wait before trying again.');
    await converseStream(c, ask('abcd', { inferenceConfig: { maxTokens: 200 } }));
    // Settled to the input + 5 × the 40 output tokens.
    const answered = await converseStream(c, { ...ask('abcd [[emulator:tokens=40]]', { inferenceConfig: { maxTokens: 150 } }), modelId: sonnet45 });
    expect(answered.usage!.outputTokens).toBe(40);
    expect(emu.stats().window.byModel[sonnet45]!.tokens).toBe(answered.usage!.inputTokens! + 5 * 40);
    // A catalog entry may set the rate for a model id the emulator does not know.
    emu.configure({ quotas: { 'vendor.new-model-v1:0': { tokensPerMinute: 1_000, outputBurndown: 3 } } });
    const other = await converseStream(c, { ...ask('abcd [[emulator:tokens=10]]', { inferenceConfig: { maxTokens: 100 } }), modelId: 'vendor.new-model-v1:0' });
    expect(emu.stats().window.byModel['vendor.new-model-v1:0']!.tokens).toBe(other.usage!.inputTokens! + 3 * 10);
    expect(() => emu.configure({ quotas: { [MODEL]: { outputBurndown: 0 } } })).toThrow(/outputBurndown/);
    // Without maxTokens Converse asks for the model's whole output limit (64,000 for Opus 4.5), 5 × in quota.
    const opus = 'us.anthropic.claude-opus-4-5-20251101-v1:0';
    emu.configure({ quotas: { [opus]: { tokensPerMinute: 300_000 } } });
    expect((await rejection(converseStream(c, { ...ask('abcd'), modelId: opus }))).name).toBe('ThrottlingException');
    await converseStream(c, { ...ask('abcd', { inferenceConfig: { maxTokens: 50_000 } }), modelId: opus });
  });

  it('counts input as the model does: Opus 4.7 and later make 1.35 times as many tokens of the same text and read larger images, also against the context window', async () => {
    const sonnet45 = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    const opus47 = 'us.anthropic.claude-opus-4-7';
    const c = client();
    const text = 'x'.repeat(3600) + ' [[emulator:tokens=5]]';
    const claude3Count = (await converseStream(c, { ...ask(text), modelId: sonnet45 })).usage!.inputTokens!;
    expect(claude3Count).toBe(Math.ceil(text.length / 4));
    expect((await converseStream(c, { ...ask(text), modelId: opus47 })).usage!.inputTokens).toBe(Math.ceil((text.length / 4) * 1.35));
    // A 1568 × 1568 image: 1,600 tokens once scaled down for Sonnet 4.5, read whole by Opus 4.7.
    const png = pngHeader(1568, 1568);
    const withImage = (modelId: string): ConverseStreamCommandInput => ({
      modelId,
      messages: [{ role: 'user', content: [{ image: { format: 'png', source: { bytes: png } } }, { text: 'abcd' }] }],
    });
    expect((await converseStream(c, withImage(sonnet45))).usage!.inputTokens).toBe(1600 + 1);
    expect((await converseStream(c, withImage(opus47))).usage!.inputTokens).toBe(Math.ceil((1568 * 1568) / 750) + 2);
    // Opus 4.6 on and Sonnet 4.6 take 1M tokens of context; other models the default 200,000.
    expect(emu.config().models[opus47]).toBeUndefined();
    const million = 'x'.repeat(800_004) + ' [[emulator:tokens=1]]'; // 200,007 Claude 3 tokens
    await converseStream(c, { ...ask(million), modelId: 'us.anthropic.claude-opus-4-6-v1' });
    await converseStream(c, { ...ask(million), modelId: 'global.anthropic.claude-sonnet-4-6' });
    expect((await rejection(converseStream(c, { ...ask(million), modelId: sonnet45 }))).message).toBe('Input is too long for requested model.');
    // A prompt that fits a 1,000-token window in Claude 3 tokens does not fit it in Opus 4.7's.
    emu.configure({ quotas: { [sonnet45]: { contextWindow: 1_000 }, [opus47]: { contextWindow: 1_000 } } });
    await converseStream(c, { ...ask(text), modelId: sonnet45 });
    const err = await rejection(converseStream(c, { ...ask(text), modelId: opus47 }));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toBe('Input is too long for requested model.');
    // A catalog entry may set the ratio for a model id the emulator does not know; 1 to 4.
    emu.configure({ models: [{ id: 'vendor.new-model-v1:0', tokenizerRatio: 2 }] });
    expect((await converseStream(c, { ...ask('abcdefgh'), modelId: 'vendor.new-model-v1:0' })).usage!.inputTokens).toBe(4);
    expect(() => emu.configure({ models: [{ id: MODEL, tokenizerRatio: 0.5 }] })).toThrow(/tokenizerRatio/);
  });

  it('lets the SDK retry a throttled call by itself', async () => {
    emu.injectFault({ type: 'throttling', count: 1 });
    const got = await converseStream(client('h2', 3), ask('retry me'));
    expect(got.stopReason).toBe('end_turn');
    expect(emu.stats().requests.byStatus).toEqual({ '200': 1, '429': 1 });
  });
});

describe('faults', () => {
  it('injects 503 ServiceUnavailableException before the stream, for the next N requests of a model', async () => {
    emu.injectFault({ type: 'serviceUnavailable', model: MODEL, count: 2 });
    const c = client('http/1.1');
    for (let i = 0; i < 2; i++) {
      const err = await rejection(converseStream(c, ask('x')));
      expect(err.name).toBe('ServiceUnavailableException');
      expect(err.$metadata?.httpStatusCode).toBe(503);
    }
    await expect(converseStream(c, ask('x'))).resolves.toMatchObject({ stopReason: 'end_turn' });
  });

  it.each([
    ['modelStreamErrorException', 'ModelStreamErrorException'],
    ['throttlingException', 'ThrottlingException'],
    ['internalServerException', 'InternalServerException'],
  ] as const)('ends a stream with %s after N tokens', async (exception, errorName) => {
    emu.injectFault({ type: 'streamError', exception, afterTokens: 7 });
    const out = await client().send(new ConverseStreamCommand(ask('fail midway [[emulator:tokens=50]]')));
    let deltas = 0;
    const err = await rejection(
      (async () => {
        for await (const event of out.stream!) if (event.contentBlockDelta) deltas++;
      })(),
    );
    expect(err.name).toBe(errorName);
    expect(deltas).toBe(7);
    expect(emu.stats().streams).toMatchObject({ started: 1, failed: 1 });
    expect(emu.stats().recent.at(-1)).toMatchObject({ outcome: 'stream-error', errorType: exception, outputTokens: 7 });
  });

  it('fires a fault only for requests whose last user text contains its promptContains', async () => {
    emu.injectFault({ type: 'serviceUnavailable', model: MODEL, promptContains: 'break this one', count: 1 });
    const c = client('http/1.1');
    await expect(converseStream(c, ask('someone else'))).resolves.toMatchObject({ stopReason: 'end_turn' });
    expect((await rejection(converseStream(c, ask('please break this one')))).name).toBe('ServiceUnavailableException');
    await expect(converseStream(c, ask('please break this one'))).resolves.toMatchObject({ stopReason: 'end_turn' });
    expect(() => emu.injectFault({ type: 'throttling', promptContains: '' })).toThrow(/promptContains/);
  });

  it('fires probabilistic faults reproducibly from a seed', async () => {
    const run = async () => {
      emu.reset();
      emu.injectFault({ type: 'serviceUnavailable', probability: 0.5, seed: 42 });
      const c = client();
      const outcomes: string[] = [];
      for (let i = 0; i < 12; i++) {
        outcomes.push(await converseStream(c, ask('p')).then(() => 'ok', (e: Error) => e.name));
      }
      return outcomes;
    };
    const first = await run();
    expect(new Set(first)).toEqual(new Set(['ok', 'ServiceUnavailableException']));
    expect(await run()).toEqual(first);
  });
});

describe('admin API', () => {
  it('serves health, config, faults, stats and reset', async () => {
    expect(await admin('GET', 'health')).toEqual({ status: 200, json: { ok: true } });
    const config = await admin('POST', 'config', { tps: 10_000, ttfbMs: 5, windowMs: 10_000, quotas: { [MODEL]: { requestsPerMinute: 1 } } });
    expect(config.status).toBe(200);
    expect(config.json).toMatchObject({ tps: 10_000, ttfbMs: 5, windowMs: 10_000 });
    expect(config.json.models[MODEL].quota.requestsPerMinute).toBe(1);
    expect((await admin('POST', 'config', { ttfb: 1 })).status).toBe(400);

    const fault = await admin('POST', 'faults', { type: 'streamError', afterTokens: 2, model: MODEL });
    expect(fault.status).toBe(201);
    expect((await admin('GET', 'faults')).json.faults).toHaveLength(1);
    expect((await admin('POST', 'faults', { type: 'nope' })).status).toBe(400);

    const c = client();
    expect((await rejection(converseStream(c, ask('a')))).name).toBe('ModelStreamErrorException');
    expect((await rejection(converseStream(c, ask('b')))).name).toBe('ThrottlingException');

    const stats = (await admin('GET', 'stats')).json;
    expect(stats.requests.byModel[MODEL].byStatus).toEqual({ '200': 1, '429': 1 });
    expect(stats.throttled).toBe(1);
    expect(stats.streams).toMatchObject({ started: 1, failed: 1, completed: 0, abortedByClient: 0, active: 0 });
    expect(stats.window.byModel[MODEL]).toMatchObject({ requests: 1, requestsPerMinute: 1 });
    expect(stats.tokens.output).toBe(2);
    expect(stats.recent).toHaveLength(2);
    expect(stats.recent[0]).toMatchObject({ modelId: MODEL, operation: 'converse-stream', at: expect.any(String), time: expect.any(Number) });

    expect((await admin('POST', 'reset', { config: true })).status).toBe(200);
    const after = (await admin('GET', 'stats')).json;
    expect(after.requests.total).toBe(0);
    expect((await admin('GET', 'config')).json.models).toEqual({});
    expect((await admin('GET', 'nope')).status).toBe(404);
  });
});

describe('timing and load', () => {
  it('honours ttfb and tokens per second, per request via a directive', async () => {
    const started = performance.now();
    const out = await client().send(new ConverseStreamCommand(ask('timed [[emulator:tokens=20,tps=200,ttfb=100]]')));
    let firstDeltaAt = 0;
    for await (const event of out.stream!) if (event.contentBlockDelta && !firstDeltaAt) firstDeltaAt = performance.now();
    const total = performance.now() - started;
    expect(firstDeltaAt - started).toBeGreaterThanOrEqual(95);
    expect(total).toBeGreaterThanOrEqual(95 + 19 * 5 - 10);
    expect(total).toBeLessThan(1_000);
  });

  it.each<Protocol>(['h2', 'http/1.1'])('delivers a long unpaced stream intact through flow control (%s)', async (protocol) => {
    emu.configure({ tps: null, quotas: { [MODEL]: { maxOutputTokens: 100_000 } } });
    const input = ask('everything at once [[emulator:tokens=10000]]', { inferenceConfig: { maxTokens: 100_000 } });
    const got = await converseStream(client(protocol), input);
    expect(got.usage?.outputTokens).toBe(10_000);
    expect(got.text).toBe(emulatorAnswer(input).text);
  });

  it('completes 200 concurrent streams over one h2 session and 50 over HTTP/1.1', async () => {
    emu.configure({ tps: 2_000 });
    const h2 = client('h2');
    const h1 = client('http/1.1');
    const inputs = Array.from({ length: 250 }, (_, i) => ask(`concurrent ${i} [[emulator:tokens=20]]`));
    const results = await Promise.all(inputs.map((input, i) => converseStream(i < 200 ? h2 : h1, input)));
    results.forEach((r, i) => expect(r.text).toBe(emulatorAnswer(inputs[i]).text));
    const stats = emu.stats();
    expect(stats.streams).toMatchObject({ started: 250, completed: 250, active: 0 });
    expect(stats.recent.filter((r) => r.protocol === 'h2')).toHaveLength(200);
  });
});
