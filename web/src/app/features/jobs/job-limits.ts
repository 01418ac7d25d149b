import type { JobDocument } from '@switchboard/contracts';

/** Mirrors jobLimits in @switchboard/contracts (not imported: that module pulls in zod). */
export const limits = {
  maxTextChars: 20_000_000,
  maxDocuments: 20,
  maxDocumentBase64Chars: Math.ceil((25 * 1024 * 1024 * 4) / 3),
  maxInstructionsChars: 4000,
  minWords: 10,
  maxWords: 5000,
};
export const formats: Record<string, JobDocument['format']> = {
  pdf: 'pdf', txt: 'txt', md: 'md', markdown: 'md', csv: 'csv', html: 'html', htm: 'html', docx: 'docx',
};
