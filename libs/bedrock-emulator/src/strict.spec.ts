import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, type ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { PromptCache, knownRules } from './rules.js';
import { CLAUDE_3_COUNTING, pngHeader } from './media.js';
import { startEmulator, type Emulator } from './index.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const SONNET_45 = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const HAIKU_3 = 'anthropic.claude-3-haiku-20240307-v1:0';
const SONNET_46 = 'global.anthropic.claude-sonnet-4-6';
const OPUS_47 = 'us.anthropic.claude-opus-4-7';
const OPUS_45 = 'global.anthropic.claude-opus-4-5-20251101-v1:0';

let emu: Emulator;
let client: BedrockRuntimeClient;

beforeAll(async () => {
  emu = await startEmulator({ tps: null, ttfbMs: 0 });
  client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'AKID', secretAccessKey: 's' }, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await emu.close();
});
afterEach(() => emu.configure({ lenient: false }));

const ask = (modelId: string, extra: Partial<ConverseStreamCommandInput> = {}, text = 'Hello there'): ConverseStreamCommandInput => ({
  modelId,
  messages: [{ role: 'user', content: [{ text }] }],
  ...extra,
});

async function refusal(input: ConverseStreamCommandInput): Promise<{ name: string; status?: number; message: string }> {
  try {
    await client.send(new ConverseCommand(input));
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected a ValidationException');
}

const png = pngHeader;

describe('strict validation (the default)', () => {
  const cases: [string, ConverseStreamCommandInput, RegExp][] = [
    [
      'temperature with topP on an exclusive model',
      ask(SONNET_45, { inferenceConfig: { temperature: 0.5, topP: 0.9 } }),
      /^The model returned the following errors: `temperature` and `top_p` cannot both be specified for this model\. Please use only one\.$/,
    ],
    ['top_k above its range', ask(HAIKU_3, { additionalModelRequestFields: { top_k: 501 } }), /top_k: Input should be less than or equal to 500/],
    ['maxTokens above the model', ask(HAIKU_3, { inferenceConfig: { maxTokens: 5000 } }), /exceeds the model limit of 4096/],
    ['thinking on a model without it', ask(HAIKU_3, { additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2000 } } }), /thinking: Extra inputs are not permitted/],
    [
      'thinking budget below the minimum',
      ask(SONNET_45, { inferenceConfig: { maxTokens: 4000 }, additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 500 } } }),
      /budget_tokens: Input should be greater than or equal to 1024/,
    ],
    [
      'thinking budget not below maxTokens',
      ask(SONNET_45, { inferenceConfig: { maxTokens: 2000 }, additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2000 } } }),
      /`max_tokens` must be greater than `thinking.budget_tokens`/,
    ],
    [
      'thinking with temperature',
      ask(SONNET_45, { inferenceConfig: { maxTokens: 4000, temperature: 0.5 }, additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } } }),
      /`temperature` may only be set to 1 when thinking is enabled/,
    ],
    [
      'thinking with top_k',
      ask(SONNET_45, { inferenceConfig: { maxTokens: 4000 }, additionalModelRequestFields: { top_k: 10, thinking: { type: 'enabled', budget_tokens: 1024 } } }),
      /`top_k` must be unset when thinking is enabled/,
    ],
    [
      'thinking with an assistant prefill',
      {
        modelId: SONNET_45,
        messages: [
          { role: 'user', content: [{ text: 'Hi' }] },
          { role: 'assistant', content: [{ text: 'The' }] },
        ],
        inferenceConfig: { maxTokens: 4000 },
        additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } },
      },
      /a final `assistant` message must start with a thinking block/,
    ],
    [
      'a thinking budget on Opus 4.7 (adaptive thinking only)',
      ask(OPUS_47, { inferenceConfig: { maxTokens: 4000 }, additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } } }),
      /"thinking\.type\.enabled" is not supported for this model\. Use "thinking\.type\.adaptive"/,
    ],
    ['thinking disabled on Opus 4.7', ask(OPUS_47, { additionalModelRequestFields: { thinking: { type: 'disabled' } } }), /"thinking\.type\.disabled" is not supported/],
    ['temperature on Opus 4.7', ask(OPUS_47, { inferenceConfig: { temperature: 0.5 } }), /`temperature` is not supported for this model/],
    ['top_p on Opus 4.7', ask(OPUS_47, { inferenceConfig: { topP: 0.9 } }), /`top_p` is not supported for this model/],
    ['top_k on Opus 4.7', ask(OPUS_47, { additionalModelRequestFields: { top_k: 10 } }), /`top_k` is not supported for this model/],
    ['adaptive thinking on Sonnet 4.5', ask(SONNET_45, { additionalModelRequestFields: { thinking: { type: 'adaptive' } } }), /Input tag 'adaptive' found/],
    [
      'adaptive thinking with temperature',
      ask(SONNET_46, { inferenceConfig: { temperature: 0.5 }, additionalModelRequestFields: { thinking: { type: 'adaptive' } } }),
      /`temperature` may only be set to 1 when thinking is enabled/,
    ],
    [
      'too many images',
      { modelId: HAIKU_3, messages: [{ role: 'user', content: [...Array.from({ length: 21 }, () => ({ image: { format: 'png' as const, source: { bytes: png(10, 10) } } })), { text: 'x' }] }] },
      /maximum number of images is 20/,
    ],
    [
      'an image over 8000 pixels',
      { modelId: HAIKU_3, messages: [{ role: 'user', content: [{ image: { format: 'png', source: { bytes: png(8001, 10) } } }, { text: 'x' }] }] },
      /exceed max allowed size: 8000 pixels/,
    ],
    [
      'an image over 3.75 MB',
      { modelId: HAIKU_3, messages: [{ role: 'user', content: [{ image: { format: 'png', source: { bytes: Buffer.alloc(3_932_161) } } }, { text: 'x' }] }] },
      /image exceeds max allowed size of 3\.75 MB/,
    ],
    [
      'too many documents',
      {
        modelId: HAIKU_3,
        messages: [{ role: 'user', content: [...Array.from({ length: 6 }, (_, i) => ({ document: { format: 'txt' as const, name: `d${i}`, source: { bytes: Buffer.from('hi') } } })), { text: 'x' }] }],
      },
      /exceeds the maximum of 5/,
    ],
    [
      'a document over 4.5 MB',
      { modelId: HAIKU_3, messages: [{ role: 'user', content: [{ document: { format: 'pdf', name: 'big', source: { bytes: Buffer.alloc(4_718_593) } } }, { text: 'x' }] }] },
      /exceeds the maximum of 4\.5 MB/,
    ],
    ['a blank text block', { modelId: HAIKU_3, messages: [{ role: 'user', content: [{ text: '  ' }] }] }, /The text field in the ContentBlock object at messages\.0\.content\.0 is blank/],
    [
      'roles not alternating',
      { modelId: HAIKU_3, messages: [{ role: 'user', content: [{ text: 'a' }] }, { role: 'user', content: [{ text: 'b' }] }] },
      /must alternate between user and assistant/,
    ],
    [
      'a prefill ending in whitespace',
      { modelId: HAIKU_3, messages: [{ role: 'user', content: [{ text: 'a' }] }, { role: 'assistant', content: [{ text: 'The ' }] }] },
      /final assistant content cannot end with trailing whitespace/,
    ],
    [
      'more than four cache points',
      { modelId: SONNET_45, messages: [{ role: 'user', content: [{ text: 'a' }, ...Array.from({ length: 5 }, () => ({ cachePoint: { type: 'default' as const } }))] }] },
      /A maximum of 4 blocks with cache_control may be provided\. Found 5\./,
    ],
    [
      'an assistant prefill on Sonnet 4.6',
      { modelId: SONNET_46, messages: [{ role: 'user', content: [{ text: 'a' }] }, { role: 'assistant', content: [{ text: 'The' }] }] },
      /^The model returned the following errors: This model does not support assistant message prefill\. The conversation must end with a user message\.$/,
    ],
    ['an assistant prefill on Opus 4.7', { modelId: OPUS_47, messages: [{ role: 'user', content: [{ text: 'a' }] }, { role: 'assistant', content: [{ text: 'The' }] }] }, /does not support assistant message prefill/],
    ['an effort on Sonnet 4.5', ask(SONNET_45, { additionalModelRequestFields: { output_config: { effort: 'low' } } }), /^The model returned the following errors: This model does not support the effort parameter\.$/],
    // Effort is a beta on Opus 4.5: without its anthropic_beta flag there is no output_config; with it, only three levels.
    ['an effort on Opus 4.5 without its beta flag', ask(OPUS_45, { additionalModelRequestFields: { output_config: { effort: 'low' } } }), /output_config\.effort: Extra inputs are not permitted$/],
    [
      'effort max on Opus 4.5',
      ask(OPUS_45, { additionalModelRequestFields: { output_config: { effort: 'max' }, anthropic_beta: ['effort-2025-11-24'] } }),
      /output_config\.effort: Input should be 'low', 'medium' or 'high'$/,
    ],
    ['effort xhigh on Sonnet 4.6', ask(SONNET_46, { additionalModelRequestFields: { output_config: { effort: 'xhigh' } } }), /'xhigh' is not supported by this model/],
    ['an unknown effort', ask(OPUS_47, { additionalModelRequestFields: { output_config: { effort: 'extreme' } } }), /output_config\.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'/],
    ['an unknown output_config field', ask(OPUS_47, { additionalModelRequestFields: { output_config: { effort: 'low', speed: 'fast' } } }), /output_config\.speed: Extra inputs are not permitted/],
    ['a cache point on a model without caching', { modelId: HAIKU_3, messages: [{ role: 'user', content: [{ text: 'a' }, { cachePoint: { type: 'default' } }] }] }, /did not allow prompt caching/],
  ];

  it.each(cases)('refuses %s with a ValidationException (400, Bedrock text)', async (_name, input, message) => {
    const err = await refusal(input);
    expect(err).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(err.message).toMatch(message);
  });

  it('refuses an unsupported document format with the AWS constraint text', async () => {
    const err = await refusal({
      modelId: HAIKU_3,
      messages: [{ role: 'user', content: [{ document: { format: 'rtf' as 'txt', name: 'x', source: { bytes: Buffer.from('hi') } } }, { text: 'x' }] }],
    });
    expect(err.message).toMatch(/Value 'rtf' at 'messages\.0\.member\.content\.0\.member\.document\.format' failed to satisfy constraint/);
  });

  it('accepts one sampling parameter on an exclusive model, and both on Claude 3', async () => {
    await expect(client.send(new ConverseCommand(ask(SONNET_45, { inferenceConfig: { topP: 0.9 } })))).resolves.toBeDefined();
    await expect(client.send(new ConverseCommand(ask(HAIKU_3, { inferenceConfig: { temperature: 0.5, topP: 0.9 } })))).resolves.toBeDefined();
  });

  it('follows the catalog rules given for a model id it does not know', async () => {
    emu.configure({ models: [{ id: 'test.exclusive-model', rules: { exclusiveSampling: true, topK: false } }] });
    expect((await refusal(ask('test.exclusive-model', { additionalModelRequestFields: { top_k: 5 } }))).message).toMatch(/top_k: Extra inputs are not permitted/);
    expect((await refusal(ask('test.exclusive-model', { inferenceConfig: { temperature: 1, topP: 1 } }))).message).toMatch(/cannot both be specified/);
    // The catalog's thinkingMode and sampling, as the product writes them.
    emu.configure({ models: [{ id: 'test.adaptive-model', rules: { thinking: { minBudget: 1024 }, thinkingMode: 'adaptive', sampling: false } as object }] });
    await expect(client.send(new ConverseCommand(ask('test.adaptive-model', { additionalModelRequestFields: { thinking: { type: 'adaptive' } } })))).resolves.toBeDefined();
    expect((await refusal(ask('test.adaptive-model', { inferenceConfig: { temperature: 0.5 } }))).message).toMatch(/`temperature` is not supported/);
  });

  it('lets everything through in lenient mode (opt-in)', async () => {
    emu.configure({ lenient: true });
    await expect(client.send(new ConverseCommand(ask(SONNET_45, { inferenceConfig: { temperature: 0.5, topP: 0.9 } })))).resolves.toBeDefined();
  });
});

describe('extended thinking', () => {
  it('streams reasoning deltas in block 0, its signature, then the answer in block 1', async () => {
    const input = ask(SONNET_45, { inferenceConfig: { maxTokens: 3000 }, additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } } });
    const out = await client.send(new ConverseStreamCommand(input));
    const seen: string[] = [];
    let reasoning = '';
    let text = '';
    let usage: { outputTokens?: number } | undefined;
    for await (const e of out.stream!) {
      const d = e.contentBlockDelta;
      if (d?.delta?.reasoningContent?.text) {
        reasoning += d.delta.reasoningContent.text;
        if (seen.at(-1) !== 'reasoning') seen.push('reasoning');
      } else if (d?.delta?.reasoningContent?.signature) seen.push('signature');
      else if (d?.delta?.text) {
        expect(d.contentBlockIndex).toBe(1);
        text += d.delta.text;
        if (seen.at(-1) !== 'text') seen.push('text');
      } else if (e.contentBlockStop) seen.push(`stop${e.contentBlockStop.contentBlockIndex}`);
      if (e.metadata) usage = e.metadata.usage;
    }
    expect(seen).toEqual(['reasoning', 'signature', 'stop0', 'text', 'stop1']);
    expect(reasoning.length).toBeGreaterThan(0);
    // The answer is the same text as without thinking; thinking counts as output.
    const plain = await client.send(new ConverseCommand(ask(SONNET_45)));
    expect(text).toBe(plain.output!.message!.content![0]!.text);
    expect(usage!.outputTokens).toBeGreaterThan(plain.usage!.outputTokens!);
  });

  it('thinks adaptively where the model takes it: Opus 4.7 only so, Sonnet 4.6 besides a budget', async () => {
    const adaptive = { additionalModelRequestFields: { thinking: { type: 'adaptive' } } };
    for (const modelId of [OPUS_47, SONNET_46]) {
      const out = await client.send(new ConverseCommand(ask(modelId, { inferenceConfig: { maxTokens: 3000 }, ...adaptive })));
      // A signed thinking block (Opus 4.7 leaves its text out unless asked: see below).
      expect(out.output!.message!.content![0]!.reasoningContent?.reasoningText?.signature).toBeTruthy();
    }
    const budget = { inferenceConfig: { maxTokens: 3000 }, additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } } };
    await expect(client.send(new ConverseCommand(ask(SONNET_46, budget)))).resolves.toBeDefined();
    // Without thinking and sampling parameters Opus 4.7 answers as any model.
    await expect(client.send(new ConverseCommand(ask(OPUS_47)))).resolves.toBeDefined();
  });

  it('Opus 4.7 thinks with empty blocks unless the request asks for summarized thinking', async () => {
    const think = (display?: string) => ({ inferenceConfig: { maxTokens: 3000 }, additionalModelRequestFields: { thinking: { type: 'adaptive', ...(display ? { display } : {}) } } });
    const omitted = await client.send(new ConverseCommand(ask(OPUS_47, think())));
    const block = omitted.output!.message!.content![0]!.reasoningContent!.reasoningText!;
    expect(block.text).toBe('');
    expect(block.signature).toBeTruthy();
    const summarized = await client.send(new ConverseCommand(ask(OPUS_47, think('summarized'))));
    expect(summarized.output!.message!.content![0]!.reasoningContent?.reasoningText?.text).toBeTruthy();
    // Billed the same either way: the model thought.
    expect(omitted.usage!.outputTokens).toBe(summarized.usage!.outputTokens);
    // Streamed: no reasoning text, the signature still closes the block.
    const stream = await client.send(new ConverseStreamCommand(ask(OPUS_47, think())));
    let reasoningText = '';
    let signature = '';
    for await (const event of stream.stream!) {
      reasoningText += event.contentBlockDelta?.delta?.reasoningContent?.text ?? '';
      signature += event.contentBlockDelta?.delta?.reasoningContent?.signature ?? '';
    }
    expect({ reasoningText, signed: signature.length > 0 }).toEqual({ reasoningText: '', signed: true });
    // Sonnet 4.6 summarizes by default; an unknown display is refused.
    const sonnet = await client.send(new ConverseCommand(ask(SONNET_46, think())));
    expect(sonnet.output!.message!.content![0]!.reasoningContent?.reasoningText?.text).toBeTruthy();
    expect((await refusal(ask(OPUS_47, think('full')))).message).toMatch(/thinking\.adaptive\.display: Input should be 'summarized' or 'omitted'/);
  });

  it('the Claude 5 models think unasked (empty blocks, billed as output); asked, they show it', async () => {
    const OPUS_55 = 'global.anthropic.claude-opus-5-5';
    const plain = await client.send(new ConverseCommand(ask(OPUS_55, { inferenceConfig: { maxTokens: 3000 } })));
    const [thought, answer] = plain.output!.message!.content!;
    expect(thought!.reasoningContent?.reasoningText).toMatchObject({ text: '', signature: expect.any(String) });
    expect(answer!.text).toBeTruthy();
    const shown = await client.send(
      new ConverseCommand(ask(OPUS_55, { inferenceConfig: { maxTokens: 3000 }, additionalModelRequestFields: { thinking: { type: 'adaptive', display: 'summarized' } } })),
    );
    expect(shown.output!.message!.content![0]!.reasoningContent?.reasoningText?.text).toBeTruthy();
    expect(plain.usage!.outputTokens).toBe(shown.usage!.outputTokens);
    // Opus 4.7 thinks only when asked.
    expect((await client.send(new ConverseCommand(ask(OPUS_47)))).output!.message!.content![0]!.reasoningContent).toBeUndefined();
    expect((await refusal(ask(OPUS_55, { additionalModelRequestFields: { thinking: { type: 'disabled' } } }))).message).toMatch(/"thinking\.type\.disabled" is not supported/);
  });

  it('takes each effort level the model lists, with adaptive thinking or without', async () => {
    const effort = (level: string, thinking?: object) => ({ additionalModelRequestFields: { output_config: { effort: level }, ...(thinking ? { thinking } : {}) } });
    for (const level of ['low', 'medium', 'high', 'xhigh', 'max']) await expect(client.send(new ConverseCommand(ask(OPUS_47, effort(level))))).resolves.toBeDefined();
    const withBeta = (level: string) => ({ additionalModelRequestFields: { ...effort(level).additionalModelRequestFields, anthropic_beta: ['effort-2025-11-24'] } });
    for (const level of ['low', 'medium', 'high']) await expect(client.send(new ConverseCommand(ask(OPUS_45, withBeta(level))))).resolves.toBeDefined();
    const adaptive = { inferenceConfig: { maxTokens: 3000 }, ...effort('max', { type: 'adaptive' }) };
    await expect(client.send(new ConverseCommand(ask(SONNET_46, adaptive)))).resolves.toBeDefined();
    expect(knownRules('anthropic.claude-haiku-4-5-20251001-v1:0').effort).toBe(false);
  });
});

describe('prompt caching', () => {
  const long = 'The queue holds work until a worker takes it. '.repeat(200); // ~2300 tokens
  const cp = { cachePoint: { type: 'default' as const } };

  it('writes a prefix at a cache point and reads it back on the next turn within the TTL', async () => {
    const quotaBefore = emu.stats().window.byModel[SONNET_45]?.tokens ?? 0;
    const first = await client.send(
      new ConverseCommand({ modelId: SONNET_45, system: [{ text: long }, cp], messages: [{ role: 'user', content: [{ text: 'First question' }, cp] }] }),
    );
    expect(first.usage!.cacheReadInputTokens).toBe(0);
    expect(first.usage!.cacheWriteInputTokens).toBeGreaterThan(1024);
    const second = await client.send(
      new ConverseCommand({
        modelId: SONNET_45,
        system: [{ text: long }, cp],
        messages: [
          { role: 'user', content: [{ text: 'First question' }] },
          { role: 'assistant', content: [{ text: 'An answer.' }] },
          { role: 'user', content: [{ text: 'Second question' }, cp] },
        ],
      }),
    );
    expect(second.usage!.cacheReadInputTokens).toBe(first.usage!.cacheWriteInputTokens);
    expect(second.usage!.inputTokens).toBeLessThan(first.usage!.inputTokens! + first.usage!.cacheWriteInputTokens!);
    // The token quota counts cache writes and (5 ×) output, not cache reads.
    const quotaTokens = (u: typeof first.usage) => u!.inputTokens! + (u!.cacheWriteInputTokens ?? 0) + 5 * u!.outputTokens!;
    expect(emu.stats().window.byModel[SONNET_45]!.tokens).toBe(quotaBefore + quotaTokens(first.usage) + quotaTokens(second.usage));
  });

  it('refuses a document name Bedrock does not take (a dot, a tab, two spaces, over 200 characters)', async () => {
    const send = (name: string) =>
      client.send(new ConverseCommand({ modelId: SONNET_45, messages: [{ role: 'user', content: [{ document: { format: 'txt', name, source: { bytes: Buffer.from('hi') } } }, { text: 'x' }] }] }));
    for (const bad of ['report.pdf', 'a\tb', 'a  b', 'résumé', 'x'.repeat(201)]) await expect(send(bad)).rejects.toThrow(/^The document file name can only contain alphanumeric characters/);
    for (const good of ['Q3 report (final) [v2]', 'test_name', 'a-b', 'x'.repeat(200)]) await expect(send(good)).resolves.toBeDefined();
  });

  it('refuses two documents of the same name anywhere in the request', async () => {
    const doc = (name: string) => ({ document: { format: 'txt' as const, name, source: { bytes: new TextEncoder().encode('Notes.') } } });
    const messages = (second: string) => [
      { role: 'user' as const, content: [doc('notes'), { text: 'Read this' }] },
      { role: 'assistant' as const, content: [{ text: 'Done.' }] },
      { role: 'user' as const, content: [doc(second), { text: 'And this' }] },
    ];
    await expect(client.send(new ConverseCommand({ modelId: SONNET_45, messages: messages('notes') }))).rejects.toThrow(
      "Messages can't contain duplicate document names. Rename the document and retry your request.",
    );
    await expect(client.send(new ConverseCommand({ modelId: SONNET_45, messages: messages('notes 2') }))).resolves.toBeDefined();
  });

  it('refuses a cache point right after a document block, as Bedrock does, and takes one before it', async () => {
    const doc = { document: { format: 'txt' as const, name: 'notes', source: { bytes: new TextEncoder().encode('Meeting notes.') } } };
    const send = (content: object[]) => client.send(new ConverseCommand({ modelId: SONNET_45, system: [{ text: long }], messages: [{ role: 'user', content: content as never }] }));
    await expect(send([{ text: 'Summarize these' }, doc, cp])).rejects.toThrow(/^The model returned the following errors: messages\.0\.content\.2\.type: Field required$/);
    await expect(send([{ text: 'Summarize these' }, cp, doc])).resolves.toBeDefined();
    await expect(send([doc, { text: 'Summarize these' }, cp])).resolves.toBeDefined();
  });

  it('does not cache a prefix below the model minimum', async () => {
    const out = await client.send(new ConverseCommand({ modelId: SONNET_45, system: [{ text: 'short' }, cp], messages: [{ role: 'user', content: [{ text: 'q' }] }] }));
    expect(out.usage!.cacheWriteInputTokens ?? 0).toBe(0);
  });

  it('forgets a prefix after five minutes without use', () => {
    let now = 0;
    const cache = new PromptCache(() => now);
    const body = { system: [{ text: long }, cp], messages: [{ role: 'user', content: [{ text: 'q' }] }] };
    const rules = knownRules(SONNET_45);
    expect(cache.apply(SONNET_45, body, rules, CLAUDE_3_COUNTING).read).toBe(0);
    now += 4 * 60_000;
    expect(cache.apply(SONNET_45, body, rules, CLAUDE_3_COUNTING).read).toBeGreaterThan(0);
    now += 5 * 60_000 + 1;
    expect(cache.apply(SONNET_45, body, rules, CLAUDE_3_COUNTING).read).toBe(0);
  });
});
