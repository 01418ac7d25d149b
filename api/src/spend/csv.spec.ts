import { csvField, toCsv } from './csv.js';

describe('csv', () => {
  it('leaves plain fields alone and quotes the ones that need it', () => {
    expect(csvField('team-a')).toBe('team-a');
    expect(csvField(1.25)).toBe('1.25');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
  });

  it('defuses spreadsheet formulas in text fields, not in numbers', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@sum')).toBe("'@sum");
    expect(csvField(-3)).toBe('-3');
  });

  it('writes a header and CRLF-terminated lines', () => {
    expect(toCsv(['key', 'costUsd'], [['ana', 0.5], ['b,c', 2]])).toBe('key,costUsd\r\nana,0.5\r\n"b,c",2\r\n');
  });
});
