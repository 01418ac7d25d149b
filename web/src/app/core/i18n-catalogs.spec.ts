import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// One catalog per language: every key of the English catalog exists in each, with the same
// {{placeholders}}, and no catalog has keys English lacks.
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'public', 'i18n');
type Catalog = { [key: string]: string | Catalog };

function flatten(catalog: Catalog, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(catalog)) {
    if (typeof value === 'string') out.set(prefix + key, value);
    else for (const [k, v] of flatten(value, `${prefix}${key}.`)) out.set(k, v);
  }
  return out;
}

const placeholders = (text: string) => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();
const read = (file: string) => flatten(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Catalog);
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const english = read('en.json');

describe('language catalogs', () => {
  it('include English, Simplified Chinese, Japanese and Korean', () => {
    expect(files.sort()).toEqual(expect.arrayContaining(['en.json', 'ja.json', 'ko.json', 'zh-CN.json']));
  });

  it.each(files.filter((f) => f !== 'en.json'))('%s has every key of en.json with the same placeholders, and no others', (file) => {
    const catalog = read(file);
    const missing = [...english.keys()].filter((k) => !catalog.has(k));
    const extra = [...catalog.keys()].filter((k) => !english.has(k));
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
    const mismatched = [...english].filter(([k, v]) => JSON.stringify(placeholders(v)) !== JSON.stringify(placeholders(catalog.get(k)!))).map(([k]) => k);
    expect(mismatched).toEqual([]);
    expect([...catalog].filter(([, v]) => !v.trim()).map(([k]) => k)).toEqual([]);
  });
});
