import { z } from 'zod';
import { contentLimits, documentFormats, imageMediaTypes } from './constants.js';
import { safeText } from './safe-text.js';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

export const textBlockSchema = z.object({
  type: z.literal('text'),
  // Bedrock refuses blank text blocks ("The text field in the ContentBlock object … is blank").
  text: safeText().min(1).max(contentLimits.maxTextChars).refine((t) => t.trim() !== '', 'must not be blank'),
});
export const imageBlockSchema = z.object({
  type: z.literal('image'),
  mediaType: z.enum(imageMediaTypes),
  data: base64.min(1).max(contentLimits.maxImageBase64Chars),
});
export const documentBlockSchema = z.object({
  type: z.literal('document'),
  // Bedrock allows letters, digits, spaces, hyphens, parentheses and brackets in document names.
  name: safeText().min(1).max(200),
  format: z.enum(documentFormats),
  data: base64.min(1).max(contentLimits.maxDocumentBase64Chars),
});

/** A piece of message content: text, an image or a document (data base64). */
export const blockSchema = z.discriminatedUnion('type', [textBlockSchema, imageBlockSchema, documentBlockSchema]);
export type Block = z.infer<typeof blockSchema>;
export type TextBlock = z.infer<typeof textBlockSchema>;
export type ImageBlock = z.infer<typeof imageBlockSchema>;
export type DocumentBlock = z.infer<typeof documentBlockSchema>;

export const contentSchema = z
  .array(blockSchema)
  .min(1)
  .max(contentLimits.maxBlocks)
  .refine((blocks) => blocks.filter((b) => b.type === 'image').length <= contentLimits.maxImages, 'too many images')
  .refine((blocks) => blocks.filter((b) => b.type === 'document').length <= contentLimits.maxDocuments, 'too many documents')
  .refine(
    (blocks) => blocks.reduce((n, b) => n + (b.type === 'text' ? b.text.length : b.data.length), 0) <= contentLimits.maxContentChars,
    'content is too large',
  );

/** Concatenated text of the text blocks. */
export function textOf(blocks: readonly Block[]): string {
  return blocks
    .filter((b): b is TextBlock => b.type === 'text')
    .map((b) => b.text)
    .join('\n');
}
