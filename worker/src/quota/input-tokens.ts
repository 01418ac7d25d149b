import { imageSize } from 'image-size';
import { type ImageScale, imageTokensOf, type InputCounting } from '@switchboard/contracts';

/**
 * The quota and history estimates' counts of input, on the safe side of Bedrock's: text at 3.5
 * characters a Claude 3 token (about 4 on average in English text), scaled by the model's
 * tokenizer ratio; images by their size (estimateImageTokens).
 */
export function estimateTextTokens(chars: number, counting: InputCounting): number {
  return Math.ceil((chars / 3.5) * counting.tokenizerRatio);
}

/**
 * How much of an image the size is read from: PNG, GIF and WebP say it in their first bytes, a
 * JPEG after its metadata (rarely more than a few KiB). Past this, the image counts the most.
 */
const headBytes = 96 * 1024;
const headBase64Chars = (headBytes / 3) * 4;
/** The formats Bedrock takes; any other (an SVG, say, whose text names any size) counts the most. */
const bedrockFormats = new Set(['png', 'jpg', 'gif', 'webp']);

/**
 * An image's tokens for the quota and history estimates, on the safe side of Bedrock's count
 * (imageTokensOf): from its size, read from its header; an image whose size cannot be read counts
 * the most the model counts for one. `image`: its bytes, or its base64 as stored.
 */
export function estimateImageTokens(image: Uint8Array | string, scale: ImageScale): number {
  const head = typeof image === 'string' ? Buffer.from(image.slice(0, headBase64Chars), 'base64') : image.subarray(0, headBytes);
  let size: { width: number; height: number; type?: string } | undefined;
  try {
    size = imageSize(head);
  } catch {
    size = undefined; // not an image format it knows, or cut short
  }
  return imageTokensOf(size && bedrockFormats.has(size.type ?? '') ? size : undefined, scale);
}
