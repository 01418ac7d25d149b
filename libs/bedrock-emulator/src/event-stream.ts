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

/** An `:message-type: event` frame with a JSON payload, as Bedrock frames every stream event. */
export function eventFrame(eventType: string, payload: unknown): Buffer {
  const bytes = eventStreamCodec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: encoder.encode(JSON.stringify(payload)),
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** An `:message-type: exception` frame; the SDK throws it as the modeled error of that name. */
export function exceptionFrame(exceptionType: StreamExceptionType, message: string, extra: Record<string, unknown> = {}): Buffer {
  const bytes = eventStreamCodec.encode({
    headers: {
      ':exception-type': { type: 'string', value: exceptionType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: encoder.encode(JSON.stringify({ message, ...extra })),
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
