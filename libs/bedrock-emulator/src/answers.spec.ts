import { countInputTokens, emulatorAnswer, parseDirectives } from './answers.js';
import { CLAUDE_3_COUNTING, DOCUMENT_INPUT_TOKENS, imageTokens, OPUS_47_IMAGES, pngHeader } from './media.js';

const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const ask = (text: string, extra: object = {}) => ({ modelId: MODEL, messages: [{ role: 'user', content: [{ text }] }], ...extra });

describe('emulatorAnswer', () => {
  it('is a pure function of model, system, last user text and maxTokens', () => {
    const a = emulatorAnswer(ask('What is a queue?'));
    expect(emulatorAnswer(ask('What is a queue?'))).toEqual(a);
    expect(emulatorAnswer(ask('What is a stack?')).text).not.toEqual(a.text);
    expect(emulatorAnswer({ ...ask('What is a queue?'), modelId: 'other' }).text).not.toEqual(a.text);
    expect(emulatorAnswer({ ...ask('What is a queue?'), system: [{ text: 'Be terse.' }] }).text).not.toEqual(a.text);
    expect(a.text).toBe(a.tokens.join(''));
    expect(a.outputTokens).toBe(a.tokens.length);
    expect(a.stopReason).toBe('end_turn');
  });

  it('accepts Converse, Anthropic and short request shapes alike', () => {
    const converse = emulatorAnswer({ ...ask('hi'), inferenceConfig: { maxTokens: 7 } });
    const anthropic = emulatorAnswer({ modelId: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], max_tokens: 7 });
    const short = emulatorAnswer({ modelId: MODEL, messages: [{ role: 'user', content: 'hi' }], maxTokens: 7 });
    expect(anthropic).toEqual(converse);
    expect(short).toEqual(converse);
  });

  it('honours the tokens directive exactly and caps at maxTokens', () => {
    expect(emulatorAnswer(ask('go [[emulator:tokens=500]]')).tokens).toHaveLength(500);
    const capped = emulatorAnswer(ask('go [[emulator:tokens=500]]', { maxTokens: 40 }));
    expect(capped.tokens).toHaveLength(40);
    expect(capped.stopReason).toBe('max_tokens');
    // Truncation keeps the prefix: the answer under a cap is the start of the uncapped one.
    expect(emulatorAnswer(ask('go [[emulator:tokens=500]]')).text.startsWith(capped.text)).toBe(true);
    expect(emulatorAnswer(ask('go [[emulator:tokens=0]]')).text).toBe('');
  });

  it('writes markdown-ish prose and sometimes a fenced code block', () => {
    const answers = Array.from({ length: 40 }, (_, i) => emulatorAnswer(ask(`question ${i} [[emulator:tokens=200]]`)).text);
    expect(answers.some((t) => t.includes('```ts\n'))).toBe(true);
    expect(answers.some((t) => !t.includes('```'))).toBe(true);
    for (const t of answers) expect(t).toMatch(/^[#A-Z]/);
  });

  it('continues an assistant prefill that is a prefix of the answer', () => {
    const full = emulatorAnswer(ask('tell me [[emulator:tokens=60]]'));
    const delivered = full.tokens.slice(0, 25).join('');
    const rest = emulatorAnswer({
      modelId: MODEL,
      messages: [
        { role: 'user', content: [{ text: 'tell me [[emulator:tokens=60]]' }] },
        { role: 'assistant', content: [{ text: delivered }] },
      ],
    });
    expect(delivered + rest.text).toBe(full.text);
    expect(rest.outputTokens).toBe(35);
  });

  it('counts input tokens as ceil(chars/4), images by size and a fixed charge per document', () => {
    expect(countInputTokens({ messages: [{ role: 'user', content: [{ text: 'abcde' }] }], system: [{ text: 'xyz' }] })).toBe(2);
    expect(
      countInputTokens({
        messages: [{ role: 'user', content: [{ text: 'abcd' }, { image: {} }, { document: {} }] }],
      }),
    ).toBe(1 + 1600 + DOCUMENT_INPUT_TOKENS); // an image without readable bytes counts the most an image can
    // A tokenizer that makes more tokens of the same text (Opus 4.7 on: 1.35).
    expect(countInputTokens({ messages: [{ role: 'user', content: [{ text: 'abcde' }] }], system: [{ text: 'xyz' }] }, { ...CLAUDE_3_COUNTING, tokenizerRatio: 1.35 })).toBe(3);
  });

  it('counts an image as (width × height) / 750 tokens once scaled down to the model limits', () => {
    const png = pngHeader;
    const claude3 = CLAUDE_3_COUNTING.images;
    const opus47 = OPUS_47_IMAGES;
    expect(imageTokens(png(300, 250), claude3)).toBe(100);
    // 1568 × 1568 is over 1,600 tokens before Opus 4.7; Opus 4.7 reads it whole.
    expect(imageTokens(png(1568, 1568), claude3)).toBe(1600);
    expect(imageTokens(png(1568, 1568), opus47)).toBe(Math.ceil((1568 * 1568) / 750));
    // A long edge over the limit scales the image down first: 5152 × 1000 reads as 2576 × 500.
    expect(imageTokens(png(5152, 1000), opus47)).toBe(Math.ceil((2576 * 500) / 750));
    expect(imageTokens(png(4000, 4000), opus47)).toBe(5000);
    const message = { role: 'user' as const, content: [{ image: { format: 'png', source: { bytes: png(300, 250).toString('base64') } } }] };
    expect(countInputTokens({ messages: [message] })).toBe(100);
  });

  it('parses directives and ignores junk', () => {
    expect(parseDirectives('x [[emulator:tps=1000,ttfb=0]] y [[emulator:tokens=5]]')).toEqual({ tps: 1000, ttfb: 0, tokens: 5 });
    expect(parseDirectives('[[emulator:tps=abc,nope=1,tokens=-3]]')).toEqual({});
  });
});

describe('echo directive', () => {
  it('answers with the user text after [[emulator:echo]], verbatim', () => {
    const text = 'Flow:\n\n```mermaid\ngraph TD\n  A --> B\n```';
    const answer = emulatorAnswer(ask(`ignored [[emulator:echo]] ${text}`));
    expect(answer.text).toBe(text);
    expect(answer.stopReason).toBe('end_turn');
    expect(answer.tokens.length).toBeGreaterThan(3);
  });
});
