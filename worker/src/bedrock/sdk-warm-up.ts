import { Readable } from 'node:stream';
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { BedrockProtocol } from './bedrock-client.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const codec = new EventStreamCodec(
  (bytes: Uint8Array) => decoder.decode(bytes),
  (text: string) => encoder.encode(text),
);

/** A ConverseStream answer as Bedrock frames it: start, a few deltas, stop, usage. */
function streamFrames(): Uint8Array[] {
  const event = (type: string, payload: unknown) =>
    codec.encode({
      headers: {
        ':event-type': { type: 'string', value: type },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
      },
      body: encoder.encode(JSON.stringify(payload)),
    });
  return [
    event('messageStart', { role: 'assistant' }),
    ...Array.from({ length: 8 }, (_, i) => event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: ` word${i}` } })),
    event('contentBlockStop', { contentBlockIndex: 0 }),
    event('messageStop', { stopReason: 'end_turn' }),
    event('metadata', { usage: { inputTokens: 12, outputTokens: 8, totalTokens: 20 }, metrics: { latencyMs: 1 } }),
  ];
}

const converseBody = JSON.stringify({
  output: { message: { role: 'assistant', content: [{ text: 'A short title' }] } },
  stopReason: 'end_turn',
  usage: { inputTokens: 12, outputTokens: 3, totalTokens: 15 },
  metrics: { latencyMs: 1 },
});

/** Answers every request on the spot, as Bedrock would, without a network. */
const cannedHandler = {
  handle: async (request: { path: string }) => {
    const streamed = request.path.endsWith('/converse-stream');
    const body = Readable.from(streamed ? streamFrames() : [encoder.encode(converseBody)]);
    const headers = { 'content-type': streamed ? 'application/vnd.amazon.eventstream' : 'application/json', 'x-amzn-requestid': 'warm-up' };
    return { response: { statusCode: 200, reason: 'OK', headers, body } };
  },
  updateHttpClientConfig: () => undefined,
  httpHandlerConfigs: () => ({}),
  destroy: () => undefined,
};

/**
 * Runs the SDK's whole path of a call (serialising, signing, the event-stream decoding of the
 * answer) `rounds` times against canned answers, before the worker takes jobs: V8 compiles that
 * code on its first calls, and without this the first burst after a boot (a deploy, a scale-out)
 * pays for it while the worker is busiest (issue 19, cold TTFT). No request leaves the process;
 * the client is a second one with the same settings but this handler, and the compiled code is
 * shared with the real client's.
 */
export async function warmUpBedrockSdk(region: string, rounds = 48): Promise<{ calls: number; deltas: number }> {
  const client = new BedrockRuntimeClient({
    region,
    maxAttempts: 1,
    requestHandler: cannedHandler,
    protocol: BedrockProtocol,
    cacheMiddleware: true,
    credentials: { accessKeyId: 'warm-up', secretAccessKey: 'warm-up' },
  });
  const messages = [{ role: 'user' as const, content: [{ text: 'Warm up.' }] }];
  let calls = 0;
  let deltas = 0;
  try {
    for (let i = 0; i < rounds; i++) {
      const response = await client.send(new ConverseStreamCommand({ modelId: 'warm-up', messages, inferenceConfig: { maxTokens: 64 } }));
      for await (const event of response.stream ?? []) if (event.contentBlockDelta?.delta?.text) deltas++;
      calls++;
      if (i % 4 === 0) {
        const answer = await client.send(new ConverseCommand({ modelId: 'warm-up', messages, inferenceConfig: { maxTokens: 16 } }));
        if (answer.output?.message?.content?.[0]?.text) calls++;
      }
    }
  } finally {
    client.destroy();
  }
  return { calls, deltas };
}
