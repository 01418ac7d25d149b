/**
 * Deterministic answers. The text is a pure function of the request so tests in other processes
 * can compute what the emulator will stream, and a retried request yields the same text.
 */

import { CLAUDE_3_COUNTING, DOCUMENT_INPUT_TOKENS, imageBytesOf, imageTokens, textTokens, type TokenCounting } from './media.js';

/** Answer length bounds (tokens) when no `tokens=` directive is given; it then runs to the end of the sentence. */
export const MIN_ANSWER_TOKENS = 30;
export const MAX_ANSWER_TOKENS = 220;

/**
 * A content block in any shape callers hold: Converse (`{ text }`, `{ image }`, `{ document }`) or
 * Anthropic (`{ type: 'text', text }`, `{ type: 'image' }`, `{ type: 'document' }`). Typed loosely so
 * the SDK's own input types are accepted as they are.
 */
export type AnswerContentBlock = object;

export interface AnswerMessage {
  role?: string;
  content?: string | readonly AnswerContentBlock[];
}

/**
 * What `emulatorAnswer` needs. Accepts a ConverseStream command input as is
 * (`{ modelId, messages, system, inferenceConfig: { maxTokens } }`), an Anthropic messages body plus
 * `modelId` (`{ modelId, messages, system, max_tokens }`), or the short form `{ modelId, messages, maxTokens }`.
 */
export interface AnswerRequest {
  modelId?: string;
  messages?: readonly AnswerMessage[];
  system?: string | readonly AnswerContentBlock[];
  maxTokens?: number;
  max_tokens?: number;
  inferenceConfig?: { maxTokens?: number };
  /** Extended thinking budget: the answer starts with reasoning (counted in outputTokens, within maxTokens). */
  thinkingBudget?: number;
  /** `output_config.effort` as asked (recorded; the answer does not change with it). */
  effort?: string;
  /** `thinking.display` as asked; unset: the model's default (ModelRules.thinkingDisplay). */
  thinkingDisplay?: 'summarized' | 'omitted';
}

export type StopReason = 'end_turn' | 'max_tokens';

export interface EmulatorAnswer {
  /** The whole answer; equals `tokens.join('')`. */
  text: string;
  /** One entry per streamed delta of the answer text. */
  tokens: string[];
  /** Thinking deltas, streamed before the text (extended thinking only; else empty). */
  reasoning: string[];
  /** The signature that closes the reasoning block. */
  signature?: string;
  /** Thinking happens (and is billed) but its text is not sent: empty blocks, the signature only. */
  reasoningOmitted?: boolean;
  stopReason: StopReason;
  inputTokens: number;
  /** `reasoning.length + tokens.length`. */
  outputTokens: number;
  /** Prompt-cache usage (set by the Converse routes when the request has cache points). */
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** Per-request timing directives found in the last user text (`[[emulator:tps=…,ttfb=…]]`). */
  directives: EmulatorDirectives;
}

export interface EmulatorDirectives {
  tokens?: number;
  /** Thinking deltas (extended thinking only). */
  thinking?: number;
  tps?: number;
  ttfb?: number;
}

/** Everything after this marker in the last user text is the answer, verbatim. */
export const ECHO_MARKER = '[[emulator:echo]]';

const DIRECTIVE_RE = /\[\[emulator:([^\]]*)\]\]/g;

/** Parses every `[[emulator:key=value,…]]` in a text; unknown keys and bad numbers are ignored. */
export function parseDirectives(text: string): EmulatorDirectives {
  const out: EmulatorDirectives = {};
  for (const match of text.matchAll(DIRECTIVE_RE)) {
    for (const pair of match[1]!.split(',')) {
      const [rawKey, rawValue] = pair.split('=');
      const key = rawKey?.trim();
      const value = Number(rawValue?.trim());
      if (!Number.isFinite(value) || value < 0) continue;
      if (key === 'tokens') out.tokens = Math.floor(value);
      else if (key === 'thinking') out.thinking = Math.floor(value);
      else if (key === 'tps' && value > 0) out.tps = value;
      else if (key === 'ttfb') out.ttfb = value;
    }
  }
  return out;
}

interface NormalizedBlocks {
  texts: string[];
  /** Each image block's bytes (undefined: none to read). */
  images: (Buffer | undefined)[];
  documents: number;
}

function normalizeContent(content: AnswerMessage['content']): NormalizedBlocks {
  const out: NormalizedBlocks = { texts: [], images: [], documents: 0 };
  if (content === undefined) return out;
  if (typeof content === 'string') {
    out.texts.push(content);
    return out;
  }
  for (const block of content) {
    const b = block as Record<string, unknown>;
    if (typeof b['text'] === 'string') out.texts.push(b['text']);
    else if ('image' in b || b['type'] === 'image') out.images.push(imageBytesOf(b));
    else if ('document' in b || b['type'] === 'document') out.documents += 1;
  }
  return out;
}

/**
 * Input tokens as the model counts them (media.ts): all text (system included), each image by its
 * size, a fixed charge per document.
 */
export function countInputTokens(request: Pick<AnswerRequest, 'messages' | 'system'>, counting: TokenCounting = CLAUDE_3_COUNTING): number {
  let chars = 0;
  let media = 0;
  for (const part of [request.system, ...(request.messages ?? []).map((m) => m.content)]) {
    const n = normalizeContent(part);
    for (const t of n.texts) chars += t.length;
    for (const image of n.images) media += imageTokens(image, counting.images);
    media += n.documents * DOCUMENT_INPUT_TOKENS;
  }
  return textTokens(chars, counting) + media;
}

export function requestedMaxTokens(request: AnswerRequest): number | undefined {
  return request.inferenceConfig?.maxTokens ?? request.maxTokens ?? request.max_tokens;
}

/** FNV-1a, 32 bit: tiny, stable across processes and Node versions. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOUNS = (
  'queue worker model request stream token window quota message answer client server summary document ' +
  'prompt region cache index record batch job result limit replica channel session buffer delta metric'
).split(' ');
const VERBS = 'handles tracks stores sends reads writes checks limits returns measures batches retries streams validates caches'.split(' ');
const ADJECTIVES = 'simple reliable steady small large shared durable local separate single quiet busy careful typical'.split(' ');
/** Sentence shapes; N = noun, V = verb, A = adjective. Only "the/each/every/one" so no a/an agreement. */
const TEMPLATES = [
  'The A N V the N before each N.',
  'Each N V one A N, so the N stays A.',
  'In practice, the N V every N at most once.',
  'When the N V the N, the A N V the rest.',
  'This keeps the N A and the N easy to follow.',
  'Usually the N V the A N in one step.',
  'Note that every N V its own N.',
  'Overall, the A N V the N and the N together.',
  'First, the N V the N; then the N V the A N.',
];
const HEADINGS = ['Overview', 'How it works', 'Details', 'Summary', 'Key points', 'Trade-offs'];
const CODE_LINES = [
  'const queue = new Queue("chat");',
  'await queue.add("answer", { id });',
  'for (const item of batch) process(item);',
  'if (tokens > limit) throw new Error("quota");',
  'return { ok: true, value };',
  'let total = items.reduce((a, b) => a + b, 0);',
];

/** Splits a line into delta pieces: the first word bare, later words with their leading space. */
function pieces(line: string, prefix: string): string[] {
  const words = line.split(' ');
  return words.map((w, i) => (i === 0 ? prefix + w : ' ' + w));
}

/**
 * An endless, deterministic stream of delta pieces forming markdown-ish prose: optional heading,
 * paragraphs, a bullet list, and sometimes a short fenced code block.
 */
function* proseTokens(rand: () => number): Generator<string> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  let first = true;
  const start = (): string => {
    const prefix = first ? '' : '\n\n';
    first = false;
    return prefix;
  };
  const sentence = function* (prefix: string): Generator<string> {
    const text = pick(TEMPLATES).replace(/\b[NVA]\b/g, (slot) => pick(slot === 'N' ? NOUNS : slot === 'V' ? VERBS : ADJECTIVES));
    yield* pieces(text, prefix);
  };
  const withCode = rand() < 0.35;
  if (rand() < 0.4) yield* pieces(`## ${pick(HEADINGS)}`, start());
  for (let block = 0; ; block++) {
    const kind = block === 1 && withCode ? 'code' : block > 0 && rand() < 0.25 ? 'list' : 'paragraph';
    if (kind === 'code') {
      yield start() + '```ts';
      const lines = 2 + Math.floor(rand() * 3);
      for (let i = 0; i < lines; i++) yield* pieces(pick(CODE_LINES), '\n');
      yield '\n```';
    } else if (kind === 'list') {
      const items = 2 + Math.floor(rand() * 3);
      for (let i = 0; i < items; i++) yield* sentence(i === 0 ? start() + '- ' : '\n- ');
    } else {
      const sentences = 2 + Math.floor(rand() * 3);
      for (let i = 0; i < sentences; i++) yield* sentence(i === 0 ? start() : ' ');
    }
  }
}

export function lastUserText(messages: readonly AnswerMessage[] = []): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === 'user') return normalizeContent(messages[i]!.content).texts.join('\n');
  }
  return '';
}

function generate(request: AnswerRequest, maxTokens: number): { tokens: string[]; stopReason: StopReason } {
  const userText = lastUserText(request.messages);
  const systemText = normalizeContent(request.system).texts.join('\n');
  const rand = seededRandom(hash32(`${request.modelId ?? ''}\u0000${systemText}\u0000${userText}`));
  // `[[emulator:echo]]`: the answer is the user text after the marker (tests that need exact markdown).
  const echoAt = userText.indexOf(ECHO_MARKER);
  if (echoAt >= 0) {
    const pieces = userText.slice(echoAt + ECHO_MARKER.length).replace(/^\s+/, '').match(/\s*\S+/g) ?? [];
    return { tokens: pieces.slice(0, maxTokens), stopReason: pieces.length > maxTokens ? 'max_tokens' : 'end_turn' };
  }
  const exact = parseDirectives(userText).tokens;
  const target = exact ?? MIN_ANSWER_TOKENS + Math.floor(rand() * (MAX_ANSWER_TOKENS - MIN_ANSWER_TOKENS + 1));
  const tokens: string[] = [];
  for (const piece of proseTokens(rand)) {
    // Natural answers run on to the end of the sentence or code block; directed ones stop exactly.
    const done = exact !== undefined ? tokens.length >= exact : tokens.length >= target && /(\.|```)$/.test(tokens.at(-1)!);
    if (done) return { tokens, stopReason: 'end_turn' };
    if (tokens.length >= maxTokens) return { tokens, stopReason: 'max_tokens' };
    tokens.push(piece);
  }
  throw new Error('unreachable: the prose generator is endless');
}

/**
 * The emulator's answer to a request. Length comes from a seeded PRNG (30–220 tokens, then to the
 * end of the sentence) or exactly the `[[emulator:tokens=N]]` directive, capped at maxTokens (then `stopReason` is `max_tokens`).
 * When the last message is an assistant prefill that is a prefix of the full answer (a retry that
 * continues delivered text), the answer is the remainder, as Bedrock continues a prefill; any other
 * prefill goes on from as far into the answer.
 */
export function emulatorAnswer(request: AnswerRequest, options: { defaultMaxTokens?: number; counting?: TokenCounting } = {}): EmulatorAnswer {
  const maxTokens = requestedMaxTokens(request) ?? options.defaultMaxTokens ?? 4096;
  const inputTokens = countInputTokens(request, options.counting);
  const directives = parseDirectives(lastUserText(request.messages));
  const messages = request.messages ?? [];
  const last = messages[messages.length - 1];
  let tokens: string[];
  let stopReason: StopReason;
  const reasoning = request.thinkingBudget ? thinkingTokens(request, Math.min(request.thinkingBudget, maxTokens), directives) : [];
  if (reasoning.length > 0) {
    ({ tokens, stopReason } = generate(request, Math.max(0, maxTokens - reasoning.length)));
    const signature = Buffer.from(`emulator-signature:${hash32(reasoning.join(''))}`).toString('base64');
    return { text: tokens.join(''), tokens, reasoning, signature, stopReason, inputTokens, outputTokens: reasoning.length + tokens.length, directives };
  }
  if (last && last.role === 'assistant') {
    const prefill = normalizeContent(last.content).texts.join('');
    // Generate as if the prefill were not there, with room for the prefill plus this response's budget.
    const full = generate({ ...request, messages: messages.slice(0, -1) }, Number.MAX_SAFE_INTEGER);
    const rest = continuation(full.tokens, prefill);
    tokens = rest.slice(0, maxTokens);
    stopReason = rest.length > maxTokens ? 'max_tokens' : 'end_turn';
  } else {
    ({ tokens, stopReason } = generate(request, maxTokens));
  }
  return { text: tokens.join(''), tokens, reasoning: [], stopReason, inputTokens, outputTokens: tokens.length, directives };
}

/** Deterministic thinking: `[[emulator:thinking=N]]` pieces, else 20–60, within the budget. */
function thinkingTokens(request: AnswerRequest, budget: number, directives: EmulatorDirectives): string[] {
  const rand = seededRandom(hash32(`thinking\u0000${request.modelId ?? ''}\u0000${lastUserText(request.messages)}`));
  const count = Math.min(budget, directives.thinking ?? 20 + Math.floor(rand() * 41));
  const out: string[] = [];
  for (const piece of proseTokens(rand)) {
    if (out.length >= count) break;
    out.push(piece);
  }
  return out;
}

/** The pieces after `prefix` when the pieces' text starts with it; otherwise nothing is left to say. */
function continuation(tokens: string[], prefix: string): string[] {
  let consumed = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (consumed >= prefix.length) return tokens.slice(i);
    const piece = tokens[i]!;
    const remaining = prefix.length - consumed;
    if (piece.length > remaining) {
      if (!piece.startsWith(prefix.slice(consumed))) return afterAsMuch(tokens, prefix);
      return [piece.slice(remaining), ...tokens.slice(i + 1)];
    }
    if (prefix.slice(consumed, consumed + piece.length) !== piece) return afterAsMuch(tokens, prefix);
    consumed += piece.length;
  }
  return [];
}

/** A prefill the emulator would not have written: a model still goes on, here from as far into its own answer. */
function afterAsMuch(tokens: string[], prefix: string): string[] {
  let length = 0;
  const at = tokens.findIndex((piece) => (length += piece.length) > prefix.length);
  return at < 0 ? [] : tokens.slice(at + 1);
}
