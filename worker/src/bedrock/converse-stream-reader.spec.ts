import { Readable } from 'node:stream';
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { BedrockProtocol } from './bedrock-client.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const codec = new EventStreamCodec((b) => decoder.decode(b), (t) => encoder.encode(t));

const frame = (kind: 'event' | 'exception', type: string, payload: unknown) =>
  codec.encode({
    headers: {
      [kind === 'event' ? ':event-type' : ':exception-type']: { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: kind },
    },
    body: encoder.encode(JSON.stringify(payload)),
  });
const event = (type: string, payload: Record<string, unknown>, p = 'abcdefgh') => frame('event', type, { ...payload, p });

type Chunking = 'one chunk' | 'a frame a chunk' | 'byte by byte' | 'uneven';
/** The frames as the HTTP body delivers them: one piece, a frame each, one byte each, or cut across frames. */
function chunked(frames: Uint8Array[], how: Chunking): Uint8Array[] {
  const all = Buffer.concat(frames);
  if (how === 'a frame a chunk') return frames;
  if (how === 'one chunk') return [all];
  const size = how === 'byte by byte' ? 1 : 37;
  return Array.from({ length: Math.ceil(all.length / size) }, (_, i) => all.subarray(i * size, (i + 1) * size));
}

/** A client whose every call gets `chunks` as its ConverseStream body, with no network. */
function clientWith(chunks: Uint8Array[], workers: boolean) {
  const handler = {
    handle: async () => ({
      response: { statusCode: 200, reason: 'OK', headers: { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'r-1' }, body: Readable.from(chunks) },
    }),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
  };
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    maxAttempts: 1,
    requestHandler: handler,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...(workers ? { protocol: BedrockProtocol, cacheMiddleware: true } : {}),
  });
}

type Outcome = { events: unknown[]; error?: { name: string; message: string; where: 'send' | 'stream' } };
async function read(chunks: Uint8Array[], workers: boolean): Promise<Outcome> {
  const client = clientWith(chunks, workers);
  const events: unknown[] = [];
  let where: 'send' | 'stream' = 'send';
  try {
    const out = await client.send(new ConverseStreamCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    where = 'stream';
    for await (const e of out.stream ?? []) events.push(e);
    return { events };
  } catch (err) {
    return { events, error: { name: (err as Error).name, message: (err as Error).message, where } };
  } finally {
    client.destroy();
  }
}

/** The worker's client gives exactly what the SDK's own reading gives, events and errors alike. */
async function expectSameAsSdk(frames: Uint8Array[], chunkings: Chunking[] = ['one chunk', 'a frame a chunk', 'byte by byte', 'uneven']) {
  const sdk = await read(chunked(frames, 'a frame a chunk'), false);
  for (const how of chunkings) expect({ how, ...(await read(chunked(frames, how), true)) }).toEqual({ how, ...sdk });
  return sdk;
}

const textAnswer = [
  event('messageStart', { role: 'assistant' }),
  ...['Hello', ', wörld', ' 👋', ''].map((text) => event('contentBlockDelta', { contentBlockIndex: 0, delta: { text } })),
  event('contentBlockStop', { contentBlockIndex: 0 }),
  event('messageStop', { stopReason: 'end_turn' }),
  event('metadata', { usage: { inputTokens: 12, outputTokens: 4, totalTokens: 16 }, metrics: { latencyMs: 42 } }, 'abcdefghijklmnopqrstuvwxyzABCDEFGH'),
];

describe('the worker reads ConverseStream like the SDK', () => {
  it('a text answer: the same events, Bedrock\'s padding dropped, however the body is cut', async () => {
    const sdk = await expectSameAsSdk(textAnswer);
    expect(sdk.events).toHaveLength(8);
    expect(JSON.stringify(sdk.events)).not.toContain('"p"');
    expect(sdk.events[1]).toEqual({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hello' } } });
    expect(sdk.events.at(-1)).toEqual({ metadata: { usage: { inputTokens: 12, outputTokens: 4, totalTokens: 16 }, metrics: { latencyMs: 42 } } });
  });

  it('thinking, signatures, redacted thinking, tool use, cache usage and extra fields: what the SDK gives', async () => {
    const sdk = await expectSameAsSdk([
      event('messageStart', { role: 'assistant' }),
      event('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: 'Let me think.' } } }),
      event('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'c2lnbmF0dXJl' } } }),
      event('contentBlockDelta', { contentBlockIndex: 1, delta: { reasoningContent: { redactedContent: 'AAECAw==' } } }),
      event('contentBlockStop', { contentBlockIndex: 1 }),
      event('contentBlockStart', { contentBlockIndex: 2, start: { toolUse: { toolUseId: 't-1', name: 'lookup' } } }),
      event('contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: '{"q":' } } }),
      event('contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: '"x"}' } } }),
      event('contentBlockStop', { contentBlockIndex: 2 }),
      event('messageStop', { stopReason: 'tool_use', additionalModelResponseFields: { stop_sequence: null } }),
      event('metadata', {
        usage: { inputTokens: 5, outputTokens: 9, totalTokens: 14, cacheReadInputTokens: 100, cacheWriteInputTokens: 0 },
        metrics: { latencyMs: 7 },
        performanceConfig: { latency: 'standard' },
      }),
      event('someFutureEvent', { anything: 1 }),
    ]);
    expect(sdk.events[3]).toEqual({ contentBlockDelta: { contentBlockIndex: 1, delta: { reasoningContent: { redactedContent: new Uint8Array([0, 1, 2, 3]) } } } });
  });

  it('frames larger than a chunk: a long text delta (read here) and a long tool input (read by the SDK)', async () => {
    const long = 'x'.repeat(100_000);
    const sdk = await expectSameAsSdk(
      [
        event('messageStart', { role: 'assistant' }),
        event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: long } }),
        event('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: long } } }),
        event('messageStop', { stopReason: 'tool_use' }),
      ],
      ['one chunk', 'a frame a chunk', 'uneven'],
    );
    expect(sdk.events[1]).toEqual({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: long } } });
  });

  it('an exception in the stream fails it with the SDK\'s error; one before any event fails the call', async () => {
    const midStream = await expectSameAsSdk([...textAnswer.slice(0, 3), frame('exception', 'modelStreamErrorException', { message: 'The model stream failed.', originalStatusCode: 500 })]);
    expect(midStream.error).toEqual({ name: 'ModelStreamErrorException', message: 'The model stream failed.', where: 'stream' });
    expect(midStream.events).toHaveLength(3);
    const first = await expectSameAsSdk([frame('exception', 'throttlingException', { message: 'Too many tokens, please wait before trying again.' })], ['one chunk']);
    expect(first.error).toMatchObject({ name: 'ThrottlingException', where: 'send' });
  });

  it('a corrupt or cut stream fails, as with the SDK', async () => {
    const corrupt = Buffer.from(textAnswer[1]!);
    corrupt[corrupt.length - 6] ^= 0xff; // a payload byte: the message CRC no longer matches
    const bad = await read([textAnswer[0]!, corrupt], true);
    expect(bad.error?.message).toMatch(/checksum/);
    expect(bad.events).toHaveLength(1);
    const cut = await read([Buffer.concat(textAnswer).subarray(0, -3)], true);
    expect(cut.error?.message).toBe('Truncated event message received.');
    // A length field past any real frame (4 GiB) fails at once instead of waiting for the bytes.
    const huge = await read([textAnswer[0]!, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0])], true);
    expect(huge.error?.message).toMatch(/Malformed event stream frame/);
  });
});
