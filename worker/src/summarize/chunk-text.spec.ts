import { builtInCatalog } from '@switchboard/server-core';
import { chunkBudgetChars, chunkText } from './chunk-text.js';

const sonnet45 = builtInCatalog.find((m) => m.id.includes('claude-sonnet-4-5'))!;
const opus47 = builtInCatalog.find((m) => m.id.includes('claude-opus-4-7'))!;

describe('chunkBudgetChars', () => {
  it('leaves the output and the prompt room in the context window, at 3 characters a Claude 3 token', () => {
    const model = { ...sonnet45, contextWindow: 10_000 };
    expect(chunkBudgetChars(model, 300, 1_000_000)).toBe((10_000 - 1024 - (200 + 100)) * 3);
    expect(chunkBudgetChars(model, 300, 5_000)).toBe(5_000);
  });

  it('takes fewer characters for a model whose tokenizer makes more tokens of them (Opus 4.7)', () => {
    const same = { contextWindow: 10_000, maxOutputTokens: 64_000 };
    const claude3Chars = chunkBudgetChars({ ...sonnet45, ...same }, 0, 1_000_000);
    const opusChars = chunkBudgetChars({ ...opus47, ...same }, 0, 1_000_000);
    // Each chunk still fits the window in the model's own tokens (4 characters a Claude 3 token at most).
    expect(Math.ceil((opusChars / 4) * 1.35)).toBeLessThanOrEqual(10_000 - 1024 - 200);
    expect(opusChars).toBeLessThan(claude3Chars / 1.3);
  });
});

describe('chunkText', () => {
  it('splits on paragraphs first and keeps each piece within the budget', () => {
    const text = ['a'.repeat(40), 'b'.repeat(40), 'c '.repeat(60)].join('\n\n');
    const chunks = chunkText(text, 90);
    expect(chunks.every((c) => c.length <= 90)).toBe(true);
    expect(chunks[0]).toBe(`${'a'.repeat(40)}\n\n${'b'.repeat(40)}`);
    expect(chunks.join(' ').replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''));
  });
});
