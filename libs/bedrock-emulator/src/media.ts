import { imageSize as readImageSize } from 'image-size';

/**
 * How Bedrock counts an input's media. An image is scaled down to fit the model's limits (its long
 * edge, and a pixel count worth `maxTokens`), then counts (width × height) / 750 tokens (Claude
 * vision docs). Claude Opus 4.7 and the models after it read up to 2576 pixels on the long edge and
 * about 3.75 megapixels; the models before, 1568 pixels and about 1.15 megapixels (1,600 tokens).
 * The product's estimate keeps its own copy of these figures (`knownImageScale` in contracts) on
 * purpose: the emulator imports nothing of ours, so a figure we got wrong shows in tests against it.
 */
export type ImageScale = { maxEdge: number; maxTokens: number };

/** How a model counts its input: tokens per Claude 3 token of text, and how it scales images. */
export type TokenCounting = { tokenizerRatio: number; images: ImageScale };

export const CLAUDE_3_COUNTING: TokenCounting = { tokenizerRatio: 1, images: { maxEdge: 1568, maxTokens: 1600 } };
/** Claude Opus 4.7 and the models after it: 2576 pixels on the long edge, about 3.75 megapixels. */
export const OPUS_47_IMAGES: ImageScale = { maxEdge: 2576, maxTokens: 5000 };

/** Input tokens charged per document block (Bedrock counts these from the decoded document). */
export const DOCUMENT_INPUT_TOKENS = 1500;

/** Tokens of `chars` characters of text: 4 a Claude 3 token, times the model's tokenizer ratio. */
export const textTokens = (chars: number, counting: TokenCounting) => Math.ceil((chars / 4) * counting.tokenizerRatio);

/** An image's tokens as the model counts them; an image whose size cannot be read counts the most an image can. */
export function imageTokens(bytes: Buffer | undefined, scale: ImageScale): number {
  const size = bytes && imageSize(bytes);
  if (!size || size.width <= 0 || size.height <= 0) return scale.maxTokens;
  const fit = Math.min(1, scale.maxEdge / Math.max(size.width, size.height));
  return Math.max(1, Math.min(scale.maxTokens, Math.ceil((size.width * fit * size.height * fit) / 750)));
}

/** The bytes of an image block: Converse's `image.source.bytes`, or the Messages API's `source.data` (base64 in JSON). */
export function imageBytesOf(block: Record<string, unknown>): Buffer | undefined {
  const image = (block['image'] ?? block) as { source?: { bytes?: unknown; data?: unknown } };
  const base64 = image.source?.bytes ?? image.source?.data;
  return typeof base64 === 'string' ? Buffer.from(base64, 'base64') : undefined;
}

/** A PNG of only its signature and header chunk, saying width × height: all a size reader needs (for tests and fixtures). */
export function pngHeader(width: number, height: number): Buffer {
  const buf = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(buf, 0);
  buf.writeUInt32BE(13, 8);
  buf.write('IHDR', 12, 'latin1');
  buf.writeUInt32BE(width, 16);
  buf.writeUInt32BE(height, 20);
  return buf;
}

/** Width and height from an image's header (PNG, JPEG, GIF, WebP and more: image-size); undefined when not recognised. */
export function imageSize(buf: Uint8Array): { width: number; height: number } | undefined {
  try {
    const { width, height } = readImageSize(buf);
    return { width, height };
  } catch {
    return undefined; // not an image it knows, or cut short
  }
}
