import { crc32 } from 'node:zlib';
import { EventStreamCodec } from '@smithy/eventstream-codec';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** @smithy/util-utf8 is not installed; the codec only needs these two conversions. */
export const eventStreamCodec = new EventStreamCodec(
  (bytes: Uint8Array) => decoder.decode(bytes),
  (text: string) => encoder.encode(text),
);

export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

/** The exceptions Bedrock may send inside a ConverseStream / InvokeModelWithResponseStream body. */
export type StreamExceptionType =
  | 'modelStreamErrorException'
  | 'throttlingException'
  | 'internalServerException'
  | 'serviceUnavailableException'
  | 'validationException';

type Headers = Parameters<typeof eventStreamCodec.formatHeaders>[0];

/**
 * Frames a JSON payload under a fixed header block. The header bytes come from
 * `EventStreamCodec.formatHeaders` once per event type; the prelude, payload and both CRCs are
 * written straight into one buffer, because `EventStreamCodec.encode` re-marshals the headers and
 * copies the message for every delta, which dominated the emulator's CPU under load. The output is
 * byte-identical to `encode` (asserted in event-stream.spec.ts).
 */
function framer(headers: Headers): (json: string) => Buffer {
  const headerBytes = eventStreamCodec.formatHeaders(headers);
  return (json) => {
    const payloadLength = Buffer.byteLength(json);
    const total = 12 + headerBytes.byteLength + payloadLength + 4;
    const frame = Buffer.allocUnsafe(total);
    frame.writeUInt32BE(total, 0);
    frame.writeUInt32BE(headerBytes.byteLength, 4);
    frame.writeUInt32BE(crc32(frame.subarray(0, 8)), 8);
    frame.set(headerBytes, 12);
    frame.write(json, 12 + headerBytes.byteLength, 'utf8');
    frame.writeUInt32BE(crc32(frame.subarray(0, total - 4)), total - 4);
    return frame;
  };
}

const eventFramers = new Map<string, (json: string) => Buffer>();
const exceptionFramers = new Map<string, (json: string) => Buffer>();

/** An `:message-type: event` frame with a JSON payload, as Bedrock frames every stream event. */
export function eventFrame(eventType: string, payload: unknown): Buffer {
  let frame = eventFramers.get(eventType);
  if (!frame) {
    frame = framer({
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    });
    eventFramers.set(eventType, frame);
  }
  return frame(JSON.stringify(payload));
}

const padding = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
let padded = 0;

/**
 * A stream event as Bedrock sends it (ConverseStream's events, InvokeModelWithResponseStream's
 * chunks): its payload carries a `p` member of filler characters whose length varies, so that an
 * event's size does not give its text away. The SDK drops it; a reader of the raw frames must too.
 */
export function paddedEventFrame(eventType: string, payload: Record<string, unknown>): Buffer {
  padded = (padded + 7) % padding.length;
  return eventFrame(eventType, { ...payload, p: padding.slice(0, padded + 1) });
}

/** An `:message-type: exception` frame; the SDK throws it as the modeled error of that name. */
export function exceptionFrame(exceptionType: StreamExceptionType, message: string, extra: Record<string, unknown> = {}): Buffer {
  let frame = exceptionFramers.get(exceptionType);
  if (!frame) {
    frame = framer({
      ':exception-type': { type: 'string', value: exceptionType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    });
    exceptionFramers.set(exceptionType, frame);
  }
  return frame(JSON.stringify({ message, ...extra }));
}

/** Decodes a whole event-stream body (tests and tools that read raw responses). */
export function decodeFrames(body: Uint8Array): { headers: Record<string, unknown>; body: unknown }[] {
  const out: { headers: Record<string, unknown>; body: unknown }[] = [];
  let offset = 0;
  while (offset + 4 <= body.byteLength) {
    const length = new DataView(body.buffer, body.byteOffset + offset, 4).getUint32(0);
    const message = eventStreamCodec.decode(body.subarray(offset, offset + length));
    const headers: Record<string, unknown> = {};
    for (const [name, header] of Object.entries(message.headers)) headers[name] = header.value;
    const text = decoder.decode(message.body);
    out.push({ headers, body: text ? JSON.parse(text) : undefined });
    offset += length;
  }
  return out;
}
