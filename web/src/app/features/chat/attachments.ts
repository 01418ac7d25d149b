import type { Block, DocumentBlock, ImageBlock, PublicModel } from '@switchboard/contracts';
import { contentLimits, documentMediaTypes, type ImageMediaType, imageMediaTypes } from '@switchboard/contracts/constants';
import { blobToBase64, documentFormatOf } from '../../shared/files';

/** Longest image side Claude uses without downscaling it itself. */
export const MAX_IMAGE_SIDE = 1568;
/** The contract's content limits as the composer applies them. */
export const limits = {
  maxImageBase64Chars: contentLimits.maxImageBase64Chars,
  /** contentLimits.maxBlocks, less one for the text. */
  maxAttachments: contentLimits.maxBlocks - 1,
  maxDocumentBase64Chars: contentLimits.maxDocumentBase64Chars,
  maxImages: contentLimits.maxImages,
  maxDocuments: contentLimits.maxDocuments,
  /** A PDF a text-only-documents model cannot read goes as page images: at most this many. */
  maxPdfPagesAsImages: 20,
} as const;

export type Attachment = {
  id: string;
  name: string;
  kind: 'image' | 'document';
  block: ImageBlock | DocumentBlock;
  /** data: URL for image thumbnails. */
  preview: string | null;
};

export type AttachProblem = { key: string; params: Record<string, string | number> };

const imageTypeOf = (type: string): ImageMediaType | undefined =>
  (imageMediaTypes as readonly string[]).includes(type) ? (type as ImageMediaType) : undefined;

let counter = 0;
const nextId = () => `att-${Date.now().toString(36)}-${++counter}`;

/** Bedrock allows letters, digits, single spaces, hyphens, parentheses and brackets in names. */
export function documentName(fileName: string): string {
  const stem = fileName.replace(/\.[^.]+$/, '');
  const cleaned = stem.replace(/[^\p{L}\p{N}\s\-()[\]]+/gu, ' ').replace(/\s+/g, ' ').trim();
  return (cleaned || 'document').slice(0, 200);
}

function canvasToBlob(canvas: HTMLCanvasElement, type: string, quality?: number): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('encode failed'))), type, quality),
  );
}

/** Downscale to ≤ MAX_IMAGE_SIDE on the long side in a canvas; small images are sent as they are. */
export async function imageToBlock(file: Blob, mediaType: ImageMediaType): Promise<ImageBlock> {
  const bitmap = await createImageBitmap(file);
  try {
    const scale = Math.min(1, MAX_IMAGE_SIDE / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && file.size * 1.37 < limits.maxImageBase64Chars) {
      return { type: 'image', mediaType, data: await blobToBase64(file) };
    }
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    // PNG and GIF may be transparent: keep PNG; photos become JPEG.
    const outType: ImageMediaType = mediaType === 'image/png' || mediaType === 'image/gif' ? 'image/png' : 'image/jpeg';
    let blob = await canvasToBlob(canvas, outType, 0.9);
    if (blob.size * 1.37 >= limits.maxImageBase64Chars) blob = await canvasToBlob(canvas, 'image/jpeg', 0.8);
    return { type: 'image', mediaType: blob.type === 'image/png' ? 'image/png' : 'image/jpeg', data: await blobToBase64(blob) };
  } finally {
    bitmap.close();
  }
}

/** Render PDF pages to JPEG image blocks with pdf.js (loaded on first use). */
export async function pdfToImageBlocks(file: Blob, maxPages: number): Promise<{ blocks: ImageBlock[]; pages: number }> {
  const pdfjs = await import('pdfjs-dist');
  pdfjs.GlobalWorkerOptions.workerSrc = '/pdfjs/pdf.worker.min.mjs';
  const doc = await pdfjs.getDocument({ data: new Uint8Array(await file.arrayBuffer()) }).promise;
  try {
    const blocks: ImageBlock[] = [];
    const count = Math.min(doc.numPages, maxPages);
    for (let i = 1; i <= count; i++) {
      const page = await doc.getPage(i);
      const base = page.getViewport({ scale: 1 });
      const scale = Math.min(2, MAX_IMAGE_SIDE / Math.max(base.width, base.height));
      const viewport = page.getViewport({ scale });
      const canvas = document.createElement('canvas');
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      await page.render({ canvas, canvasContext: ctx, viewport }).promise;
      const blob = await canvasToBlob(canvas, 'image/jpeg', 0.85);
      blocks.push({ type: 'image', mediaType: 'image/jpeg', data: await blobToBase64(blob) });
      page.cleanup();
    }
    return { blocks, pages: doc.numPages };
  } finally {
    void doc.destroy();
  }
}

/**
 * Turn picked/pasted/dropped files into attachments the selected model accepts; everything else
 * becomes a problem message for the user.
 */
export async function prepareFiles(
  files: readonly File[],
  model: PublicModel | undefined,
  existing: readonly Attachment[],
): Promise<{ attachments: Attachment[]; problems: AttachProblem[] }> {
  const attachments: Attachment[] = [];
  const problems: AttachProblem[] = [];
  let images = existing.filter((a) => a.kind === 'image').length;
  let documents = existing.filter((a) => a.kind === 'document').length;
  for (const file of files) {
    if (existing.length + attachments.length >= limits.maxAttachments) {
      problems.push({ key: 'attach.tooMany', params: { max: limits.maxAttachments } });
      break;
    }
    const name = file.name || 'pasted';
    const imageType = imageTypeOf(file.type);
    const format = documentFormatOf(name) ?? (file.type === documentMediaTypes.pdf ? 'pdf' : undefined);
    try {
      if (imageType) {
        if (!model?.vision) {
          problems.push({ key: 'attach.noVision', params: { name, model: model?.name ?? '' } });
        } else if (images >= limits.maxImages) {
          problems.push({ key: 'attach.tooManyImages', params: { max: limits.maxImages } });
        } else {
          const block = await imageToBlock(file, imageType);
          images++;
          attachments.push({ id: nextId(), name, kind: 'image', block, preview: `data:${block.mediaType};base64,${block.data}` });
        }
      } else if (format && model?.documents) {
        if (documents >= limits.maxDocuments) {
          problems.push({ key: 'attach.tooManyDocuments', params: { max: limits.maxDocuments } });
          continue;
        }
        const data = await blobToBase64(file);
        if (data.length > limits.maxDocumentBase64Chars) {
          problems.push({ key: 'attach.tooLarge', params: { name } });
          continue;
        }
        documents++;
        attachments.push({ id: nextId(), name, kind: 'document', block: { type: 'document', name: documentName(name), format, data }, preview: null });
      } else if (format === 'pdf' && model?.vision) {
        const room = Math.min(limits.maxPdfPagesAsImages, limits.maxImages - images, limits.maxAttachments - existing.length - attachments.length);
        if (room <= 0) {
          problems.push({ key: 'attach.tooManyImages', params: { max: limits.maxImages } });
          continue;
        }
        const { blocks, pages } = await pdfToImageBlocks(file, room);
        blocks.forEach((block, i) => {
          images++;
          attachments.push({
            id: nextId(), name: `${name} (${i + 1}/${pages})`, kind: 'image', block,
            preview: `data:${block.mediaType};base64,${block.data}`,
          });
        });
        if (pages > blocks.length) problems.push({ key: 'attach.pdfTruncated', params: { name, pages: blocks.length } });
      } else if (format) {
        problems.push({ key: 'attach.noDocuments', params: { name, model: model?.name ?? '' } });
      } else {
        problems.push({ key: 'attach.unsupported', params: { name } });
      }
    } catch {
      problems.push({ key: 'attach.unreadable', params: { name } });
    }
  }
  return { attachments, problems };
}

/** Attachments the model cannot take (e.g. after switching to a text-only model). */
export function incompatible(attachments: readonly Attachment[], model: PublicModel | undefined): Attachment[] {
  return attachments.filter((a) => (a.kind === 'image' ? !model?.vision : !model?.documents));
}

export function blocksOf(attachments: readonly Attachment[], text: string, fallbackText: string): Block[] {
  const blocks: Block[] = attachments.map((a) => a.block);
  const trimmed = text.trim();
  // Bedrock wants a text block next to documents; give one when the user typed nothing.
  if (trimmed) blocks.push({ type: 'text', text });
  else if (attachments.some((a) => a.kind === 'document')) blocks.push({ type: 'text', text: fallbackText });
  return blocks;
}
