import { type ModelEntry, tokenizerRatioOf } from '@switchboard/contracts';

/** Output tokens a chunk summary may use. */
export const chunkOutputTokens = 1024;
/** Characters per Claude 3 token assumed on the safe side (a model's tokenizer ratio divides it). */
const charsPerClaude3Token = 3;

/**
 * Characters of source text one call may carry: what the context window leaves after the output
 * and the prompt (instructions included), capped so calls on very long documents stay fast.
 */
export function chunkBudgetChars(model: ModelEntry, instructionsChars: number, maxChunkChars: number): number {
  const charsPerToken = charsPerClaude3Token / tokenizerRatioOf(model);
  const output = Math.min(model.maxOutputTokens, chunkOutputTokens);
  const prompt = 200 + Math.ceil(instructionsChars / charsPerToken);
  const tokens = model.contextWindow - output - prompt;
  return Math.max(500, Math.min(maxChunkChars, Math.floor(tokens * charsPerToken)));
}

/** Splits on paragraph boundaries (then lines, sentences, words) into pieces of at most `budget` chars. */
export function chunkText(text: string, budget: number): string[] {
  const chunks: string[] = [];
  let current = '';
  const push = (piece: string, sep: string) => {
    if (!current) current = piece;
    else if (current.length + sep.length + piece.length <= budget) current += sep + piece;
    else {
      chunks.push(current);
      current = piece;
    }
  };
  for (const paragraph of text.split(/\n\s*\n/)) {
    const p = paragraph.trim();
    if (!p) continue;
    if (p.length <= budget) push(p, '\n\n');
    else for (const piece of splitLong(p, budget)) push(piece, ' ');
  }
  if (current) chunks.push(current);
  return chunks;
}

function splitLong(text: string, budget: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > budget) {
    const window = rest.slice(0, budget);
    // The last line break, else sentence end, else space in the second half of the window.
    const cut = [window.lastIndexOf('\n'), window.lastIndexOf('. ') + 1, window.lastIndexOf(' ')].find((i) => i > budget / 2) ?? budget;
    out.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) out.push(rest);
  return out;
}
