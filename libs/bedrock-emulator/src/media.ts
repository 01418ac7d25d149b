/**
 * How Bedrock counts an input's media. An image is scaled down to fit the model's limits (its long
 * edge, and a pixel count worth `maxTokens`), then counts (width × height) / 750 tokens (Claude
 * vision docs). Claude Opus 4.7 and the models after it read up to 2576 pixels on the long edge and
 * about 3.75 megapixels; the models before, 1568 pixels and about 1.15 megapixels (1,600 tokens).
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

/** A PNG of only a header that says width × height: all the emulator reads of an image (for tests and fixtures). */
export function pngHeader(width: number, height: number): Buffer {
  const buf = Buffer.alloc(33);
  buf.writeUInt32BE(0x89504e47, 0);
  buf.writeUInt32BE(width, 16);
  buf.writeUInt32BE(height, 20);
  return buf;
}

/** Width and height of a PNG, GIF or JPEG (the header is enough); undefined when not recognised. */
export function imageSize(buf: Buffer): { width: number; height: number } | undefined {
  if (buf.length >= 24 && buf.readUInt32BE(0) === 0x89504e47) return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  if (buf.length >= 10 && buf.toString('latin1', 0, 3) === 'GIF') return { width: buf.readUInt16LE(6), height: buf.readUInt16LE(8) };
  if (buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8) {
    let at = 2;
    while (at + 9 < buf.length && buf[at] === 0xff) {
      const marker = buf[at + 1]!;
      const length = buf.readUInt16BE(at + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: buf.readUInt16BE(at + 5), width: buf.readUInt16BE(at + 7) };
      }
      at += 2 + length;
    }
  }
  return undefined;
}
