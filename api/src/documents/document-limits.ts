import { unzipSync } from 'fflate';
import type { DocumentLimits } from '@switchboard/server-core';
import { AppError } from '../common/app-error.js';

/** A document as submitted, with where it is in the request (e.g. `documents.0.data`). */
type SubmittedDocument = { name: string; format: string; data: string; path: string };

/**
 * What the API can see of a document's size before any worker touches it: its decoded bytes, and
 * for docx the uncompressed sizes its zip central directory declares (nothing is inflated here).
 * Over DOC_MAX_INFLATED_BYTES: 413 `document_too_large` naming the field. An unreadable zip is left
 * to the worker, which fails the job as `invalid_document`.
 */
export function checkDocumentSizes(documents: readonly SubmittedDocument[], limits: DocumentLimits): void {
  for (const doc of documents) {
    const { path } = doc;
    const bytes = Buffer.byteLength(doc.data, 'base64');
    if (bytes > limits.maxInflatedBytes) throw tooLarge(doc, path, `is ${bytes} bytes`, limits);
    if (doc.format !== 'docx') continue;
    const declared = declaredZipBytes(Buffer.from(doc.data, 'base64'), limits.maxInflatedBytes);
    if (declared > limits.maxInflatedBytes) throw tooLarge(doc, path, `inflates to more than ${limits.maxInflatedBytes} bytes`, limits);
  }
}

/** Sum of the entries' declared uncompressed sizes; stops counting once over `stopAbove`. 0 when not a zip. */
function declaredZipBytes(data: Uint8Array, stopAbove: number): number {
  let declared = 0;
  try {
    unzipSync(data, {
      filter: (file) => {
        declared += file.originalSize;
        if (declared > stopAbove) throw new Error('over');
        return false;
      },
    });
  } catch {
    // Either over the cap (declared says so) or not a readable zip (the worker decides).
  }
  return declared;
}

function tooLarge(doc: SubmittedDocument, path: string, what: string, limits: DocumentLimits): AppError {
  return new AppError('document_too_large', `Document "${doc.name}" ${what}; the limit is ${limits.maxInflatedBytes} bytes (DOC_MAX_INFLATED_BYTES)`, [
    { path, message: `over ${limits.maxInflatedBytes} bytes` },
  ]);
}
