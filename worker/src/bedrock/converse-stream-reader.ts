import { EventStreamCodec } from '@smithy/eventstream-codec';

/**
 * ConverseStream's answer, read with one pass per event instead of the SDK's five.
 *
 * The SDK turns the HTTP body into events through a stack of async generators (chunks, frames,
 * messages, unmarshalled messages, schema-deserialized events) and walks the response schema for
 * every event: about 1 ms of the 4.7 ms the SDK spends on a 40-token answer (issue 19, bench:sdk).
 * Here one generator cuts the body into frames and decodes each with the SDK's own codec (lengths
 * and both CRCs checked, as the SDK does). Events whose payload is plain JSON the worker reads
 * become the same objects the SDK's schema deserializer gives (text and reasoning-text deltas,
 * message start and stop, block stop, usage metadata; Bedrock's `p` padding dropped). Every other
 * frame (tool use, signatures, redacted reasoning, citations, new fields, exceptions and errors)
 * goes through the SDK's own deserializer, so its output and errors stay the SDK's.
 */

type Frame = Uint8Array;
type Decoded = ReturnType<EventStreamCodec['decode']>;
type ConverseEvent = Record<string, unknown>;
export type EventStreamArgs = { response: { body: unknown }; responseSchema: unknown; initialResponseContainer: unknown };
/** The SDK's event stream capability (what its protocol's loadEventStreamCapability resolves to). */
export type EventStreamCapability = {
  serializeEventStream(args: unknown): Promise<unknown>;
  deserializeEventStream(args: EventStreamArgs): Promise<AsyncIterable<ConverseEvent>>;
};

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const codec = new EventStreamCodec((bytes) => decoder.decode(bytes), (text) => encoder.encode(text));

/** Bedrock's frames are a few hundred bytes; a length past this is a corrupt stream, not an event. */
const maxFrameBytes = 16 * 1024 * 1024;

/** Cuts the body's chunks into whole event-stream frames (each starts with its total length, 4 bytes big-endian). */
class FrameSplitter {
  /** The bytes of a frame not yet whole, in the chunks they came in: joined once, when it is. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** The frames that `chunk` completes; a frame's bytes are copied only when it spans chunks. */
  push(chunk: Uint8Array): Frame[] {
    let buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.pendingBytes > 0) {
      this.pending.push(buffer);
      this.pendingBytes += buffer.length;
      if (this.pendingBytes < 4) return [];
      if (this.pending[0]!.length < 4) this.pending = [Buffer.concat(this.pending)]; // its length field spans chunks
      if (this.pendingBytes < frameLength(this.pending[0]!, 0)) return [];
      buffer = Buffer.concat(this.pending, this.pendingBytes);
    }
    const frames: Frame[] = [];
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const length = frameLength(buffer, offset);
      if (buffer.length - offset < length) break;
      frames.push(buffer.subarray(offset, offset + length));
      offset += length;
    }
    this.pending = offset < buffer.length ? [buffer.subarray(offset)] : [];
    this.pendingBytes = buffer.length - offset;
    return frames;
  }

  end(): void {
    if (this.pendingBytes > 0) throw new Error('Truncated event message received.');
  }
}

function frameLength(buffer: Buffer, offset: number): number {
  const length = buffer.readUInt32BE(offset);
  if (length < 16 || length > maxFrameBytes) throw new Error(`Malformed event stream frame of ${length} bytes`);
  return length;
}

const isNumber = (v: unknown): v is number => typeof v === 'number';
const onlyKeys = (o: object, allowed: readonly string[]) => Object.keys(o).every((k) => allowed.includes(k));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const knownUsage = ['inputTokens', 'outputTokens', 'totalTokens', 'cacheReadInputTokens', 'cacheWriteInputTokens'];

/**
 * The SDK's output for each event type read here, from the payload's JSON; undefined sends the frame
 * through the SDK instead (a member these builders do not know, or a value of another shape).
 */
const fastEvents: Record<string, (json: Record<string, unknown>) => ConverseEvent | undefined> = {
  contentBlockDelta: ({ contentBlockIndex, delta, ...rest }) => {
    if (!isNumber(contentBlockIndex) || !isObject(delta) || !onlyKeys(rest, ['p'])) return undefined;
    if (Object.keys(delta).length !== 1) return undefined;
    if (typeof delta.text === 'string') return { contentBlockIndex, delta: { text: delta.text } };
    const reasoning = delta.reasoningContent;
    if (isObject(reasoning) && typeof reasoning.text === 'string' && onlyKeys(reasoning, ['text'])) {
      return { contentBlockIndex, delta: { reasoningContent: { text: reasoning.text } } };
    }
    return undefined;
  },
  messageStart: ({ role, ...rest }) => (typeof role === 'string' && onlyKeys(rest, ['p']) ? { role } : undefined),
  contentBlockStop: ({ contentBlockIndex, ...rest }) => (isNumber(contentBlockIndex) && onlyKeys(rest, ['p']) ? { contentBlockIndex } : undefined),
  messageStop: ({ stopReason, ...rest }) => (typeof stopReason === 'string' && onlyKeys(rest, ['p']) ? { stopReason } : undefined),
  metadata: ({ usage, metrics, ...rest }) => {
    if (!isObject(usage) || !onlyKeys(usage, knownUsage) || !Object.values(usage).every(isNumber) || !onlyKeys(rest, ['p'])) return undefined;
    if (metrics !== undefined && !(isObject(metrics) && onlyKeys(metrics, ['latencyMs']) && isNumber(metrics.latencyMs))) return undefined;
    return { usage: { ...usage }, ...(metrics ? { metrics: { latencyMs: metrics.latencyMs } } : {}) };
  },
};

/** The event a plain frame holds, or undefined when the SDK must read it. */
function fastEvent({ headers, body }: Decoded): ConverseEvent | undefined {
  if (headers[':message-type']?.value !== 'event' || headers[':content-type']?.value !== 'application/json') return undefined;
  const type = headers[':event-type']?.value;
  const build = typeof type === 'string' ? fastEvents[type] : undefined;
  if (!build) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(body));
  } catch {
    return undefined; // the SDK reports it its own way
  }
  if (!isObject(json)) return undefined;
  const event = build(json);
  return event && { [type as string]: event };
}

/**
 * The worker's event stream capability: ConverseStream's answers read lean (above), everything else
 * (and every frame the lean reading does not know) by the SDK's.
 */
export class ConverseStreamReader implements EventStreamCapability {
  constructor(private readonly sdk: EventStreamCapability) {}

  serializeEventStream(args: unknown) {
    return this.sdk.serializeEventStream(args);
  }

  async deserializeEventStream(args: EventStreamArgs): Promise<AsyncIterable<ConverseEvent>> {
    const body = args.response.body as AsyncIterable<Uint8Array>;
    if (!isConverseStream(args.responseSchema) || typeof body?.[Symbol.asyncIterator] !== 'function') return this.sdk.deserializeEventStream(args);
    const events = this.events(body, args);
    // Like the SDK: the call resolves with its first event (an exception there fails the call itself).
    const first = await events.next();
    return {
      [Symbol.asyncIterator]: () => {
        let started = false;
        return {
          next: () => {
            if (started) return events.next();
            started = true;
            return Promise.resolve(first);
          },
          return: (value?: unknown) => events.return(value as never),
        };
      },
    };
  }

  private async *events(body: AsyncIterable<Uint8Array>, args: EventStreamArgs): AsyncGenerator<ConverseEvent> {
    const frames = new FrameSplitter();
    for await (const chunk of body) {
      for (const frame of frames.push(chunk)) {
        const event = fastEvent(codec.decode(frame));
        if (event) yield event;
        else yield* await this.viaSdk(frame, args);
      }
    }
    frames.end();
  }

  /** One frame through the SDK's own reading: its events, or its error. */
  private async viaSdk(frame: Frame, args: EventStreamArgs): Promise<AsyncIterable<ConverseEvent>> {
    const one = { async *[Symbol.asyncIterator]() { yield frame; } };
    return this.sdk.deserializeEventStream({ ...args, response: { ...args.response, body: one } });
  }
}

function isConverseStream(schema: unknown): boolean {
  const name = (schema as { getName?: () => string } | undefined)?.getName?.();
  return name === 'ConverseStreamResponse';
}
