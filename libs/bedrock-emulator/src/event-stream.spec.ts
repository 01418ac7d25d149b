import { decodeFrames, eventFrame, eventStreamCodec, exceptionFrame } from './event-stream.js';

const utf8 = new TextEncoder();

describe('event-stream framing', () => {
  it.each([{ text: 'Hello' }, { text: ' naïve – ünïcødé 🚀' }, { contentBlockIndex: 0, delta: { text: '\n```ts' } }, {}])(
    'event frames are byte-identical to EventStreamCodec.encode (%j)',
    (payload) => {
      const expected = eventStreamCodec.encode({
        headers: {
          ':event-type': { type: 'string', value: 'contentBlockDelta' },
          ':content-type': { type: 'string', value: 'application/json' },
          ':message-type': { type: 'string', value: 'event' },
        },
        body: utf8.encode(JSON.stringify(payload)),
      });
      expect(new Uint8Array(eventFrame('contentBlockDelta', payload))).toEqual(expected);
    },
  );

  it('exception frames decode with the headers the SDK dispatches on', () => {
    const frames = decodeFrames(Buffer.concat([eventFrame('messageStart', { role: 'assistant' }), exceptionFrame('modelStreamErrorException', 'boom')]));
    expect(frames).toEqual([
      { headers: { ':event-type': 'messageStart', ':content-type': 'application/json', ':message-type': 'event' }, body: { role: 'assistant' } },
      {
        headers: { ':exception-type': 'modelStreamErrorException', ':content-type': 'application/json', ':message-type': 'exception' },
        body: { message: 'boom' },
      },
    ]);
  });
});
