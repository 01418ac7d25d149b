import { AppError } from './app-error.js';
import { isUuid } from './ids.js';

/** A position in a list ordered by a timestamp, then id (newest first): what a page's nextCursor names. */
export type KeysetPosition = { at: Date; id: string };

/** Dates a cursor may carry: Postgres cannot compare with JS dates far outside this (year 275760). */
export const isCursorDate = (d: Date) => !Number.isNaN(d.getTime()) && d.getUTCFullYear() >= 1970 && d.getUTCFullYear() <= 9999;

/** The opaque cursor of the page after the row at `at`/`id`. */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

/** Reads a cursor this API returned; anything else is a 400 on `cursor`. */
export function decodeCursor(cursor: string): KeysetPosition {
  const [raw, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const at = new Date(raw ?? '');
  if (!id || !isUuid(id) || !isCursorDate(at)) {
    throw new AppError('validation_failed', 'Invalid cursor', [{ path: 'cursor', message: 'not a cursor this API returned' }]);
  }
  return { at, id };
}
