/**
 * Entry of the document extraction thread (node:worker_threads). Runs one extraction with the caps
 * it is given; the parent holds the wall-time and heap limits and survives whatever happens here.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { unzipSync } from 'fflate';

export type ExtractRequest = {
  format: string;
  data: Uint8Array;
  limits: { maxInflatedBytes: number; maxChars: number; maxPages: number };
};
export type ExtractReply = { ok: true; text: string } | { ok: false; code: 'document_too_large' | 'invalid_document'; message: string };

class TooLarge extends Error {}

/** Most entries a docx may have; real ones have a few dozen. */
const maxZipEntries = 5000;

async function extract({ format, data, limits }: ExtractRequest): Promise<string> {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const capped = (text: string) => {
    if (text.length > limits.maxChars) throw new TooLarge(`the document has more than ${limits.maxChars} characters of text`);
    return text;
  };
  switch (format) {
    case 'txt':
    case 'md':
    case 'csv':
      return capped(buffer.toString('utf8'));
    case 'html': {
      const { convert } = await import('html-to-text');
      return capped(convert(buffer.toString('utf8'), { wordwrap: false, selectors: [{ selector: 'img', format: 'skip' }] }));
    }
    case 'docx': {
      checkZip(data, limits.maxInflatedBytes);
      const mammoth = (await import('mammoth')).default;
      const { value } = await mammoth.extractRawText({ buffer });
      return capped(value);
    }
    case 'pdf':
      return pdfText(data, limits);
    default:
      throw new Error(`unsupported format "${format}"`);
  }
}

/**
 * Sums the uncompressed sizes the zip's central directory declares, before anything is inflated.
 * A zip that lies about them is stopped by the thread's heap limit instead.
 */
export function checkZip(data: Uint8Array, maxInflatedBytes: number): void {
  let declared = 0;
  let entries = 0;
  unzipSync(data, {
    filter: (file) => {
      declared += file.originalSize;
      if (++entries > maxZipEntries) throw new TooLarge(`the document has more than ${maxZipEntries} parts`);
      if (declared > maxInflatedBytes) throw new TooLarge(`the document inflates to more than ${maxInflatedBytes} bytes`);
      return false; // inflate nothing here
    },
  });
}

async function pdfText(data: Uint8Array, limits: ExtractRequest['limits']): Promise<string> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({ data, isEvalSupported: false, disableFontFace: true, useSystemFonts: false, verbosity: 0 }).promise;
  try {
    if (doc.numPages > limits.maxPages) throw new TooLarge(`the document has ${doc.numPages} pages; at most ${limits.maxPages} are read`);
    const pages: string[] = [];
    let chars = 0;
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        text += item.str;
        if (item.hasEOL) text += '\n';
      }
      chars += text.length;
      if (chars > limits.maxChars) throw new TooLarge(`the document has more than ${limits.maxChars} characters of text`);
      pages.push(text.trim());
      page.cleanup();
    }
    // Pages become paragraphs, so chunks break between pages rather than mid-sentence when they can.
    return pages.filter(Boolean).join('\n\n');
  } finally {
    await doc.destroy();
  }
}

if (parentPort && workerData) {
  const port = parentPort;
  extract(workerData as ExtractRequest).then(
    (text) => port.postMessage({ ok: true, text } satisfies ExtractReply),
    (err: unknown) =>
      port.postMessage({
        ok: false,
        code: err instanceof TooLarge ? 'document_too_large' : 'invalid_document',
        message: err instanceof Error ? err.message : String(err),
      } satisfies ExtractReply),
  );
}
