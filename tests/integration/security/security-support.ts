import { strToU8, zipSync } from 'fflate';

/**
 * A .docx of about 200 KB whose document.xml inflates to `xmlBytes` of XML (50 MB by default):
 * the "zip bomb" that used to exhaust a worker's heap. Sizes in its zip headers are honest.
 */
export function docxBomb(xmlBytes = 50 * 1024 * 1024): Buffer {
  const para = `<w:p><w:r><w:t>${'lorem ipsum '.repeat(40)}</w:t></w:r></w:p>`;
  const body = para.repeat(Math.ceil(xmlBytes / para.length));
  return docx(body);
}

/** A small valid .docx with one paragraph of `text`. */
export function docxOf(text: string): Buffer {
  return docx(`<w:p><w:r><w:t>${text}</w:t></w:r></w:p>`);
}

function docx(body: string): Buffer {
  const xml = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`;
  return Buffer.from(
    zipSync(
      {
        '[Content_Types].xml': strToU8(
          '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        ),
        '_rels/.rels': strToU8(
          '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        ),
        'word/document.xml': strToU8(xml),
      },
      { level: 9 },
    ),
  );
}

/** The zip with every entry's declared uncompressed size (local header and central directory) set to `size`. */
export function withDeclaredSizes(zip: Buffer, size: number): Buffer {
  const out = Buffer.from(zip);
  for (let i = 0; i + 30 <= out.length; i++) {
    const signature = out.readUInt32LE(i);
    if (signature === 0x02014b50) out.writeUInt32LE(size, i + 24);
    else if (signature === 0x04034b50) out.writeUInt32LE(size, i + 22);
  }
  return out;
}
