import { ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { startEmulator, type Emulator } from '@switchboard/bedrock-emulator';
import { builtInCatalog, loadConfig } from '@switchboard/server-core';
import { createBedrockClient, preconnectBedrock } from './bedrock-client.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

describe('preconnectBedrock against the emulator', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ tps: null, ttfbMs: 0, models: builtInCatalog });
  });
  afterAll(() => emu.close());

  it('gets an answer through the client’s own handler, makes no model call, and the client streams after it', async () => {
    const config = loadConfig({ BEDROCK_MODE: 'emulator', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url, AUTH_MODE: 'local' });
    const client = createBedrockClient(config);
    try {
      expect(typeof (await preconnectBedrock(client, config))).toBe('number');
      expect(emu.stats().recent ?? []).toHaveLength(0);
      const res = await client.send(
        new ConverseStreamCommand({ modelId: builtInCatalog[0]!.id, messages: [{ role: 'user', content: [{ text: 'hi' }] }], inferenceConfig: { maxTokens: 50 } }),
      );
      let text = '';
      for await (const e of res.stream ?? []) text += e.contentBlockDelta?.delta?.text ?? '';
      expect(text.length).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
  });
});
