import { countInputTokens, DOCUMENT_INPUT_TOKENS, emulatorAnswer, IMAGE_INPUT_TOKENS, parseDirectives } from './answers.js';

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

  it('counts input tokens as ceil(chars/4) plus a fixed charge per image and document', () => {
    expect(countInputTokens({ messages: [{ role: 'user', content: [{ text: 'abcde' }] }], system: [{ text: 'xyz' }] })).toBe(2);
    expect(
      countInputTokens({
        messages: [{ role: 'user', content: [{ text: 'abcd' }, { image: {} }, { document: {} }] }],
      }),
    ).toBe(1 + IMAGE_INPUT_TOKENS + DOCUMENT_INPUT_TOKENS);
    // A tokenizer that makes more tokens of the same text (Opus 4.7 on: 1.35).
    expect(countInputTokens({ messages: [{ role: 'user', content: [{ text: 'abcde' }] }], system: [{ text: 'xyz' }] }, 1.35)).toBe(3);
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
