import { warmUpBedrockSdk } from './sdk-warm-up.js';

describe('warmUpBedrockSdk', () => {
  it('runs streamed and plain calls through the real SDK against canned answers, with no network', async () => {
    // The SDK decodes the canned event stream like Bedrock's: a malformed frame would throw here.
    expect(await warmUpBedrockSdk('us-east-1', 8)).toEqual({ calls: 8 + 2, deltas: 8 * 8 });
  });
});
