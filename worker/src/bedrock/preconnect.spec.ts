import { createServer, connect, type Server } from 'node:net';
import { ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { startEmulator, type Emulator } from '@switchboard/bedrock-emulator';
import { builtInCatalog, loadConfig } from '@switchboard/server-core';
import { BedrockProtocol, createBedrockClient, preconnectBedrock, sendToBedrock } from './bedrock-client.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

describe('preconnectBedrock against the emulator', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ tps: null, ttfbMs: 0, models: builtInCatalog });
  });
  afterAll(() => emu.close());

  it('gets an answer through the client’s own handler, makes no model call, and the client streams after it', async () => {
    const config = loadConfig({ BEDROCK_MODE: 'emulator', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url, AUTH_MODE: 'local', BEDROCK_POOL_WARM: '1' });
    const client = createBedrockClient(config);
    try {
      expect(await preconnectBedrock(client, config)).toEqual([expect.any(Number)]);
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

describe('the worker\'s Bedrock client', () => {
  let emu: Emulator;
  let proxy: Server;
  let connections = 0;
  beforeAll(async () => {
    emu = await startEmulator({ tps: null, ttfbMs: 0, models: builtInCatalog });
    // Counts the TCP connections the client opens on its way to the emulator.
    const target = new URL(emu.url);
    proxy = createServer((socket) => {
      connections++;
      const upstream = connect(Number(target.port), target.hostname);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    proxy.close();
    await emu.close();
  });
  beforeEach(() => {
    connections = 0;
  });
  const configVia = (env: Record<string, string> = {}) =>
    loadConfig({
      BEDROCK_MODE: 'emulator',
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
      AUTH_MODE: 'local',
      ...env,
    });
  const input = { modelId: builtInCatalog[0]!.id, messages: [{ role: 'user' as const, content: [{ text: 'hi' }] }], inferenceConfig: { maxTokens: 50 } };
  const streamAll = async (client: ReturnType<typeof createBedrockClient>) => {
    const res = await client.send(new ConverseStreamCommand(input));
    let text = '';
    for await (const e of res.stream ?? []) text += e.contentBlockDelta?.delta?.text ?? '';
    return text;
  };

  it('opens BEDROCK_POOL_WARM connections at boot (WORKER_CONCURRENCY by default), which a burst of as many calls then reuses', async () => {
    expect(configVia({ WORKER_CONCURRENCY: '12' }).bedrockPoolWarm).toBe(12);
    const config = configVia({ BEDROCK_POOL_WARM: '5' });
    const client = createBedrockClient(config);
    try {
      expect(await preconnectBedrock(client, config)).toHaveLength(5);
      expect(connections).toBe(5);
      const answers = await Promise.all(Array.from({ length: 5 }, () => streamAll(client)));
      expect(answers.every((text) => text.length > 0)).toBe(true);
      expect(connections).toBe(5);
    } finally {
      client.destroy();
    }
  });

  it('reuses its connections: calls one after another, streamed or not, share one', async () => {
    const client = createBedrockClient(configVia());
    try {
      for (let i = 0; i < 3; i++) expect((await streamAll(client)).length).toBeGreaterThan(0);
      expect((await client.send(new ConverseCommand(input))).output?.message?.content?.length).toBeGreaterThan(0);
      expect(connections).toBe(1);
    } finally {
      client.destroy();
    }
  });

  it('makes its event-stream reader once: concurrent streamed calls share it and each reads its own answer', async () => {
    const client = createBedrockClient(configVia());
    try {
      const protocol = client.config.protocol as unknown as BedrockProtocol;
      expect(protocol).toBeInstanceOf(BedrockProtocol);
      const prompts = ['first [[emulator:tokens=5]]', 'second [[emulator:tokens=9]]', 'third [[emulator:tokens=13]]'];
      const stream = async (text: string) => {
        const res = await client.send(new ConverseStreamCommand({ ...input, messages: [{ role: 'user', content: [{ text }] }] }));
        let deltas = 0;
        for await (const e of res.stream ?? []) if (e.contentBlockDelta?.delta?.text) deltas++;
        return deltas;
      };
      expect(await Promise.all(prompts.map(stream))).toEqual([5, 9, 13]);
      const reader = (protocol as unknown as { eventStreams: unknown }).eventStreams;
      expect(reader).toBeInstanceOf(Promise);
      expect(await stream('fourth [[emulator:tokens=3]]')).toBe(3);
      expect((protocol as unknown as { eventStreams: unknown }).eventStreams).toBe(reader);
    } finally {
      client.destroy();
    }
  });

  it('stops a call its signal aborts, before the answer starts or during it, and keeps one middleware stack for all calls', async () => {
    const slow = await startEmulator({ tps: 20, ttfbMs: 1500, models: builtInCatalog });
    const client = createBedrockClient(loadConfig({ BEDROCK_MODE: 'emulator', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: slow.url, AUTH_MODE: 'local' }));
    const long = new ConverseStreamCommand({ ...input, messages: [{ role: 'user', content: [{ text: 'long [[emulator:tokens=200]]' }] }] });
    try {
      // Waiting for the first byte: the request is stopped.
      const beforeAnswer = new AbortController();
      const waiting = sendToBedrock(client, long, beforeAnswer.signal);
      setTimeout(() => beforeAnswer.abort(), 100);
      await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
      // Streaming: the answer ends early with an error, far from its 200 deltas.
      const duringAnswer = new AbortController();
      const res = await sendToBedrock(client, new ConverseStreamCommand(long.input), duringAnswer.signal);
      let deltas = 0;
      const reading = (async () => {
        for await (const e of res.stream ?? []) if (e.contentBlockDelta?.delta?.text && ++deltas === 2) duringAnswer.abort();
      })();
      await expect(reading).rejects.toThrow();
      expect(deltas).toBeLessThan(10);
      // A call without a signal is untouched, and every call used the client's one kept stack.
      const plain = await sendToBedrock(client, new ConverseCommand(input));
      expect(plain.output?.message?.content?.length).toBeGreaterThan(0);
      const kept = (client as unknown as { handlers?: WeakMap<object, unknown> }).handlers;
      expect(kept?.has(ConverseStreamCommand) && kept.has(ConverseCommand)).toBe(true);
    } finally {
      client.destroy();
      await slow.close();
    }
  });
});
