/**
 * RFC 4180 CSV: fields with a comma, quote, CR or LF are quoted and quotes doubled; lines end CRLF.
 * A text field starting with =, +, -, @, tab or CR gets a leading apostrophe so spreadsheets do not
 * run it as a formula (keys such as group names come from outside).
 */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export function csvField(value: string | number): string {
  let text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
