import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, type ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { pngHeader, startEmulator, type Emulator } from '@switchboard/bedrock-emulator';
import type { ModelEntry } from '@switchboard/contracts';
import { estimateInputTokens, estimateTokens } from '../quota/admission.js';
import { alwaysThinkingRoom, buildChatInput, buildTextInput, builtInCatalog, continueAnswerPrompt, costOf, formatSmokeTable, runSmoke, samplingFor, smokeCases } from '@switchboard/server-core';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const sonnet45 = builtInCatalog.find((m) => m.id.includes('claude-sonnet-4-5'))!;
const haiku3 = builtInCatalog.find((m) => m.id.includes('claude-3-haiku'))!;
const opus47 = builtInCatalog.find((m) => m.id.includes('claude-opus-4-7'))!;

let emu: Emulator;
let client: BedrockRuntimeClient;

beforeAll(async () => {
  // Strict (the default), with the catalog's entries as the operator's MODELS_FILE would give them.
  emu = await startEmulator({ tps: null, ttfbMs: 0, models: builtInCatalog });
  client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'AKID', secretAccessKey: 's' }, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await emu.close();
});

const call = (input: unknown, stream: boolean) =>
  client.send(stream ? new ConverseStreamCommand(input as ConverseStreamCommandInput) : new ConverseCommand(input as ConverseStreamCommandInput));

describe('samplingFor', () => {
  it('sends temperature only when an exclusive model has both stored', () => {
    expect(samplingFor(sonnet45, { temperature: 0.4, topP: 0.9 }).inferenceConfig).toEqual({ maxTokens: 4096, temperature: 0.4 });
    expect(samplingFor(haiku3, { temperature: 0.4, topP: 0.9 }).inferenceConfig).toEqual({ maxTokens: 4096, temperature: 0.4, topP: 0.9 });
  });

  it('with thinking: budget on top of the answer limit, no temperature or top_k, topP only from 0.95', () => {
    const s = samplingFor(sonnet45, { thinkingBudget: 2000, maxTokens: 1000, temperature: 0.3, topK: 5, topP: 0.5 });
    expect(s.inferenceConfig).toEqual({ maxTokens: 3000 });
    expect(s.additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 2000 } });
    expect(samplingFor(sonnet45, { thinkingBudget: 2000, topP: 0.97 }).inferenceConfig.topP).toBe(0.97);
    // Raised to the model's minimum; ignored where the model does not think or thinking is off for the call.
    expect(samplingFor(sonnet45, { thinkingBudget: 100 }).thinkingBudget).toBe(1024);
    expect(samplingFor(haiku3, { thinkingBudget: 2000, temperature: 0.3 }).additionalModelRequestFields).toBeUndefined();
    expect(samplingFor(sonnet45, { thinkingBudget: 2000 }, { thinking: false }).additionalModelRequestFields).toBeUndefined();
  });

  it('the governor reserves the thinking budget as output tokens', () => {
    const messages = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Hi' }] }];
    const plain = estimateTokens(buildChatInput({ model: sonnet45, system: null, messages, params: { maxTokens: 1000 } }) as ConverseStreamCommandInput, sonnet45);
    const thinking = estimateTokens(
      buildChatInput({ model: sonnet45, system: null, messages, params: { maxTokens: 1000, thinkingBudget: 5000 } }) as ConverseStreamCommandInput,
      sonnet45,
    );
    expect(thinking - plain).toBe(5000);
  });

  it('Opus 4.7: thinking is adaptive and asked summarized (the budget makes room under maxTokens); temperature, topP and topK are never sent', () => {
    const s = samplingFor(opus47, { thinkingBudget: 2000, maxTokens: 1000, topP: 0.97 });
    expect(s.inferenceConfig).toEqual({ maxTokens: 3000 });
    expect(s.additionalModelRequestFields).toEqual({ thinking: { type: 'adaptive', display: 'summarized' } });
    const stored = samplingFor(opus47, { temperature: 0.3, topP: 0.8, topK: 40 });
    expect(stored.inferenceConfig).toEqual({ maxTokens: 4096 });
    expect(stored.additionalModelRequestFields).toBeUndefined();
    expect(buildTextInput({ model: opus47, system: 'Summarise.', prompt: 'x', maxTokens: 100, temperature: 0.2 }).inferenceConfig).toEqual({ maxTokens: 100 });
  });

  it('sends the effort where the model takes it; a level stored for another model steps down to one it takes', () => {
    const opus45 = builtInCatalog.find((m) => m.id.includes('claude-opus-4-5'))!;
    expect(samplingFor(opus47, { effort: 'xhigh' }).additionalModelRequestFields).toEqual({ output_config: { effort: 'xhigh' } });
    // Effort is a beta on Opus 4.5: its anthropic_beta flag goes with it.
    expect(samplingFor(opus45, { effort: 'max' }).additionalModelRequestFields).toEqual({ output_config: { effort: 'high' }, anthropic_beta: ['effort-2025-11-24'] });
    expect(buildTextInput({ model: opus45, system: 's', prompt: 'p', maxTokens: 24, effort: 'low' }).additionalModelRequestFields).toEqual({
      output_config: { effort: 'low' },
      anthropic_beta: ['effort-2025-11-24'],
    });
    expect(samplingFor(sonnet45, { effort: 'low' }).additionalModelRequestFields).toBeUndefined();
    expect(samplingFor(opus47, { effort: null }).additionalModelRequestFields).toBeUndefined();
    // With thinking: both fields.
    expect(samplingFor(opus47, { effort: 'low', thinkingBudget: 2048 }).additionalModelRequestFields).toEqual({ thinking: { type: 'adaptive', display: 'summarized' }, output_config: { effort: 'low' } });
  });

  it('a model that always thinks (Claude 5) gets room for thinking on every call; thinking is shown only when asked', () => {
    const opus55 = builtInCatalog.find((m) => m.id.includes('claude-opus-5-5'))!;
    const unasked = samplingFor(opus55, { maxTokens: 1000 });
    expect(unasked.inferenceConfig).toEqual({ maxTokens: 1000 + alwaysThinkingRoom });
    expect(unasked.additionalModelRequestFields).toBeUndefined();
    expect(samplingFor(opus55, { maxTokens: 1000 }, { thinking: false }).inferenceConfig.maxTokens).toBe(1000 + alwaysThinkingRoom);
    const asked = samplingFor(opus55, { maxTokens: 1000, thinkingBudget: 8000, effort: 'low' });
    expect(asked.inferenceConfig).toEqual({ maxTokens: 9000 });
    expect(asked.additionalModelRequestFields).toEqual({ thinking: { type: 'adaptive', display: 'summarized' }, output_config: { effort: 'low' } });
  });

  it('one-message calls (titles, summaries) on a model that always thinks get the same room, and the effort asked where taken', () => {
    const opus55 = builtInCatalog.find((m) => m.id.includes('claude-opus-5-5'))!;
    const title = buildTextInput({ model: opus55, system: 's', prompt: 'p', maxTokens: 24, effort: 'low' });
    expect(title.inferenceConfig.maxTokens).toBe(24 + alwaysThinkingRoom);
    expect(title.additionalModelRequestFields).toEqual({ output_config: { effort: 'low' } });
    const onSonnet45 = buildTextInput({ model: sonnet45, system: 's', prompt: 'p', maxTokens: 24, effort: 'low' });
    expect(onSonnet45.inferenceConfig.maxTokens).toBe(24);
    expect(onSonnet45.additionalModelRequestFields).toBeUndefined();
  });

  it('clamps top_k to the model range and drops it where not accepted', () => {
    const noTopK: ModelEntry = { ...sonnet45, id: 'test.no-top-k', rules: { ...sonnet45.rules, topK: false } };
    expect(samplingFor(sonnet45, { topK: 900 }).additionalModelRequestFields).toEqual({ top_k: 500 });
    expect(samplingFor(noTopK, { topK: 40 }).additionalModelRequestFields).toBeUndefined();
  });
});

describe('buildChatInput against the strict emulator', () => {
  it('a conversation with temperature and topP stored answers on a Sonnet-4.5-class model', async () => {
    const input = buildChatInput({ model: sonnet45, system: 'Be brief', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], params: { temperature: 0.4, topP: 0.9 } });
    const out = await client.send(new ConverseCommand(input as ConverseStreamCommandInput));
    expect(out.output?.message?.content?.[0]?.text).toBeTruthy();
  });

  it('sending both (what the worker did before) is refused with Bedrock text', async () => {
    const input = { ...buildChatInput({ model: sonnet45, system: null, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], params: {} }) };
    input.inferenceConfig = { ...input.inferenceConfig, temperature: 0.4, topP: 0.9 };
    await expect(client.send(new ConverseCommand(input as ConverseStreamCommandInput))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('`temperature` and `top_p` cannot both be specified for this model'),
    });
  });

  it('a continued answer (prefill) goes without thinking; blank text is dropped', async () => {
    const input = buildChatInput({
      model: sonnet45,
      system: null,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: '   ' }] }],
      params: { thinkingBudget: 2000 },
      prefill: 'The ',
    });
    expect(input.additionalModelRequestFields).toBeUndefined();
    expect(input.messages.at(-1)).toEqual({ role: 'assistant', content: [{ text: 'The' }] });
    await expect(client.send(new ConverseCommand(input as ConverseStreamCommandInput))).resolves.toBeDefined();
  });

  it('a continued answer on a model that takes no prefill (4.6 on) asks for the rest in a user turn', async () => {
    const sonnet46 = builtInCatalog.find((m) => m.id.includes('claude-sonnet-4-6'))!;
    for (const model of [sonnet46, opus47]) {
      const input = buildChatInput({ model, system: null, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], params: {}, prefill: 'The queue ' });
      expect(input.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
      expect(input.messages[1]!.content).toEqual([{ text: 'The queue' }]);
      expect(input.messages[2]!.content).toEqual([{ text: continueAnswerPrompt }]);
      const out = await call(input, false);
      expect((out as { output?: { message?: { content?: { text?: string }[] } } }).output?.message?.content?.[0]?.text).toBeTruthy();
    }
  });

  it('a long conversation with more images than Bedrock takes sends the newest 20', async () => {
    const image = { type: 'image' as const, mediaType: 'image/png' as const, data: pngHeader(10, 10).toString('base64') };
    const messages = Array.from({ length: 13 }, (_, i) => [
      { role: 'user' as const, content: [image, image, { type: 'text' as const, text: `Look ${i}` }] },
      { role: 'assistant' as const, content: [{ type: 'text' as const, text: `Seen ${i}` }] },
    ]).flat().slice(0, -1);
    const input = buildChatInput({ model: sonnet45, system: null, messages, params: {} });
    const sent = input.messages.flatMap((m) => m.content).filter((b) => 'image' in b);
    expect(sent).toHaveLength(20);
    expect(input.messages.at(-1)!.content.filter((b) => 'image' in b)).toHaveLength(2);
    await expect(client.send(new ConverseCommand(input as ConverseStreamCommandInput))).resolves.toBeDefined();
  });

  it('the quota estimate of the input is at least what Bedrock counts, also with the tokenizer and images of Opus 4.7', async () => {
    const long = 'Queues hold work until a worker takes it. '.repeat(120);
    // A 1568 × 1568 PNG (the portal's largest): 1,600 tokens once scaled down for Sonnet 4.5, 3,279 for Opus 4.7.
    const image = { type: 'image' as const, mediaType: 'image/png' as const, data: pngHeader(1568, 1568).toString('base64') };
    for (const model of [sonnet45, opus47]) {
      const content = [image, { type: 'text' as const, text: long }];
      const input = buildChatInput({ model, system: 'Be brief', messages: [{ role: 'user', content }], params: { maxTokens: 16 } });
      const usage = (await client.send(new ConverseCommand(input as ConverseStreamCommandInput))).usage!;
      const counted = usage.inputTokens! + (usage.cacheReadInputTokens ?? 0) + (usage.cacheWriteInputTokens ?? 0);
      expect(estimateInputTokens(input as ConverseStreamCommandInput, model)).toBeGreaterThanOrEqual(counted);
      // Counted as Claude 3 input, Opus 4.7's would be under what Bedrock counts.
      if (model === opus47) expect(estimateInputTokens(input as ConverseStreamCommandInput, { id: 'claude-3-like' })).toBeLessThan(counted);
    }
  });

  it('estimates an image by its size: at or above what Bedrock counts, not the most an image may count', async () => {
    for (const model of [sonnet45, opus47]) {
      for (const [width, height] of [[300, 200], [1000, 750], [4000, 3000]] as const) {
        const image = { type: 'image' as const, mediaType: 'image/png' as const, data: pngHeader(width, height).toString('base64') };
        const input = buildChatInput({ model, system: null, messages: [{ role: 'user', content: [image, { type: 'text', text: 'Describe it.' }] }], params: { maxTokens: 16 } });
        const counted = (await client.send(new ConverseCommand(input as ConverseStreamCommandInput))).usage!.inputTokens!;
        const estimate = estimateInputTokens(input as ConverseStreamCommandInput, model);
        expect(estimate).toBeGreaterThanOrEqual(counted);
        expect(estimate).toBeLessThanOrEqual(Math.ceil(counted * 1.2) + 10);
      }
    }
  });

  it('documents that would share a name (report.pdf and report.txt, a file attached again later) get numbered', async () => {
    const doc = (name: string) => ({ type: 'document' as const, name, format: 'txt' as const, data: Buffer.from('Notes.').toString('base64') });
    const messages = [
      { role: 'user' as const, content: [doc('report.pdf'), doc('Report.txt'), { type: 'text' as const, text: 'Compare these' }] },
      { role: 'assistant' as const, content: [{ type: 'text' as const, text: 'Done.' }] },
      { role: 'user' as const, content: [doc('report.pdf'), { type: 'text' as const, text: 'Again, updated' }] },
    ];
    const input = buildChatInput({ model: sonnet45, system: null, messages, params: {} });
    const names = input.messages.flatMap((m) => m.content.flatMap((b) => ('document' in b ? [b.document.name] : [])));
    expect(names).toEqual(['report', 'Report 2', 'report 3']);
    await expect(client.send(new ConverseCommand(input as ConverseStreamCommandInput))).resolves.toBeDefined();
  });

  it('a message that ends in a document gets its cache point before the document (Bedrock refuses one right after it)', async () => {
    const long = 'Queues hold work until a worker takes it. '.repeat(400);
    const doc = { type: 'document' as const, name: 'notes.txt', format: 'txt' as const, data: Buffer.from('Meeting notes.').toString('base64') };
    const input = buildChatInput({ model: sonnet45, system: null, messages: [{ role: 'user', content: [{ type: 'text', text: long }, doc] }], params: {} });
    expect(input.messages[0]!.content.map((b) => Object.keys(b)[0])).toEqual(['text', 'cachePoint', 'document']);
    await expect(client.send(new ConverseCommand(input as ConverseStreamCommandInput))).resolves.toBeDefined();
    // Documents alone: no cache point in that message.
    const alone = buildChatInput({ model: sonnet45, system: long, messages: [{ role: 'user', content: [doc] }], params: {} });
    expect(alone.messages[0]!.content.map((b) => Object.keys(b)[0])).toEqual(['document']);
  });

  it('a second turn of a long conversation reads the first from the cache and costs less', async () => {
    const long = 'Queues hold work until a worker takes it. '.repeat(400);
    const turn1 = [{ role: 'user' as const, content: [{ type: 'text' as const, text: `${long} Summarize.` }] }];
    const turn2 = [...turn1, { role: 'assistant' as const, content: [{ type: 'text' as const, text: 'A summary.' }] }, { role: 'user' as const, content: [{ type: 'text' as const, text: 'Shorter?' }] }];
    const first = await client.send(new ConverseCommand(buildChatInput({ model: sonnet45, system: null, messages: turn1, params: {} }) as ConverseStreamCommandInput));
    const second = await client.send(new ConverseCommand(buildChatInput({ model: sonnet45, system: null, messages: turn2, params: {} }) as ConverseStreamCommandInput));
    expect(first.usage!.cacheWriteInputTokens).toBeGreaterThan(0);
    expect(second.usage!.cacheReadInputTokens).toBe(first.usage!.cacheWriteInputTokens);
    const cost = (u: typeof first.usage) =>
      costOf(sonnet45, { inputTokens: u!.inputTokens!, outputTokens: 0, cacheReadTokens: u!.cacheReadInputTokens, cacheWriteTokens: u!.cacheWriteInputTokens })!;
    expect(cost(second.usage)).toBeLessThan(cost(first.usage));
  });
});

describe('smoke:aws plan', () => {
  it('passes every check against the strict emulator for the built-in catalog', async () => {
    const results = await runSmoke(call, smokeCases(builtInCatalog));
    const table = formatSmokeTable(results);
    process.stdout.write(`${table}\n`);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.map((r) => r.name)).toEqual(expect.arrayContaining(['chat stored temperature+topP', 'thinking turn', 'cached second turn', 'summarize call', 'chat topK']));
  });

  it('reports Bedrock error text in the table when a call is refused', async () => {
    const [bad] = smokeCases([sonnet45]);
    bad!.calls[0]!.input.inferenceConfig = { maxTokens: 64, temperature: 0.1, topP: 0.5 };
    const results = await runSmoke(call, [bad!]);
    expect(results[0]).toMatchObject({ ok: false, detail: expect.stringContaining('ValidationException: The model returned the following errors') });
    expect(formatSmokeTable(results)).toContain('FAIL');
  });
});
