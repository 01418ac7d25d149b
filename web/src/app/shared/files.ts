import { type DocumentFormat, documentFormats, documentMediaTypes, imageMediaTypes } from '@switchboard/contracts/constants';

/** The base64 payload of a file or blob (what the API takes for images and documents). */
export function blobToBase64(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('read failed'));
    reader.readAsDataURL(blob);
  });
}

/** Lower-case extension of a file name without the dot ('' when there is none). */
export function fileExtension(name: string): string {
  const i = name.lastIndexOf('.');
  return i < 0 ? '' : name.slice(i + 1).toLowerCase();
}

/** Other extensions people give these formats. */
const formatAliases: Readonly<Record<string, DocumentFormat>> = { markdown: 'md', htm: 'html' };

/** The contract's document format of a file name, by its extension (undefined: not a document we take). */
export function documentFormatOf(fileName: string): DocumentFormat | undefined {
  const ext = fileExtension(fileName);
  return (documentFormats as readonly string[]).includes(ext) ? (ext as DocumentFormat) : formatAliases[ext];
}

/** `accept` of a file input for documents: their extensions and media types. */
export const documentAccept = [
  ...documentFormats.map((f) => `.${f}`),
  ...Object.keys(formatAliases).map((ext) => `.${ext}`),
  ...documentFormats.map((f) => documentMediaTypes[f]),
].join(',');

/** `accept` of a file input for images and documents. */
export const attachmentAccept = [...imageMediaTypes, documentAccept].join(',');
