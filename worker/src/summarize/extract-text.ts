import type { DocumentFormat } from '@switchboard/contracts';

/** A document that cannot be read: the job fails without retries (the same bytes fail again). */
export class ExtractionError extends Error {}

/** Plain text of a document, by format: pdf.js for PDF, mammoth for docx, html-to-text for HTML. */
export async function extractText(format: DocumentFormat | string, data: Buffer, name: string): Promise<string> {
  try {
    switch (format) {
      case 'txt':
      case 'md':
      case 'csv':
        return data.toString('utf8');
      case 'html': {
        const { convert } = await import('html-to-text');
        return convert(data.toString('utf8'), { wordwrap: false, selectors: [{ selector: 'img', format: 'skip' }] });
      }
      case 'docx': {
        const mammoth = (await import('mammoth')).default;
        const { value } = await mammoth.extractRawText({ buffer: data });
        return value;
      }
      case 'pdf':
        return await pdfText(data);
      default:
        throw new ExtractionError(`unsupported format "${format}"`);
    }
  } catch (err) {
    if (err instanceof ExtractionError) throw err;
    throw new ExtractionError(`Could not read document "${name}" as ${format}: ${(err as Error).message}`);
  }
}

async function pdfText(data: Buffer): Promise<string> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0,
  }).promise;
  try {
    const pages: string[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        text += item.str;
        if (item.hasEOL) text += '\n';
      }
      pages.push(text.trim());
      page.cleanup();
    }
    // Pages become paragraphs, so chunks break between pages rather than mid-sentence when they can.
    return pages.filter(Boolean).join('\n\n');
  } finally {
    await doc.destroy();
  }
}
