import { contentLimits, type PublicModel } from '@switchboard/contracts';
import { type Attachment, blocksOf, documentName, incompatible, limits, prepareFiles } from './attachments';

const model = (vision: boolean, documents: boolean) => ({ id: 'm', name: 'Model M', vision, documents }) as PublicModel;
const image = (id: string): Attachment => ({ id, name: `${id}.png`, kind: 'image', block: { type: 'image', mediaType: 'image/png', data: 'AA==' }, preview: null });
const doc = (id: string): Attachment => ({ id, name: `${id}.pdf`, kind: 'document', block: { type: 'document', name: id, format: 'pdf', data: 'AA==' }, preview: null });

describe('limits', () => {
  it('mirror the contract the API enforces (copied so the portal bundle does not pull in zod)', () => {
    expect(limits).toMatchObject({
      maxImageBase64Chars: contentLimits.maxImageBase64Chars,
      maxDocumentBase64Chars: contentLimits.maxDocumentBase64Chars,
      maxImages: contentLimits.maxImages,
      maxDocuments: contentLimits.maxDocuments,
      maxAttachments: contentLimits.maxBlocks - 1,
    });
  });
});

describe('documentName', () => {
  it('keeps what Bedrock allows in a document name and drops the extension', () => {
    expect(documentName('Q3 report (final).pdf')).toBe('Q3 report (final)');
    expect(documentName('notes_v2.final.md')).toBe('notes v2 final');
    expect(documentName('季度报告.docx')).toBe('季度报告');
    expect(documentName('...pdf')).toBe('document');
    expect(documentName(`${'a'.repeat(300)}.txt`)).toHaveLength(200);
  });
});

describe('blocksOf', () => {
  it('puts the typed text after the attachments', () => {
    expect(blocksOf([image('a')], 'What is this?', 'fallback').map((b) => b.type)).toEqual(['image', 'text']);
  });

  it('adds a text block next to documents when the user typed nothing (Bedrock needs one)', () => {
    expect(blocksOf([doc('d')], '   ', 'Please read the attached document.').at(-1)).toEqual({ type: 'text', text: 'Please read the attached document.' });
    expect(blocksOf([image('a')], '', 'unused')).toHaveLength(1);
  });
});

describe('incompatible', () => {
  it('finds the attachments a newly selected model cannot take', () => {
    const list = [image('a'), doc('d')];
    expect(incompatible(list, model(true, true))).toEqual([]);
    expect(incompatible(list, model(true, false)).map((a) => a.id)).toEqual(['d']);
    expect(incompatible(list, model(false, false)).map((a) => a.id)).toEqual(['a', 'd']);
    expect(incompatible(list, undefined)).toHaveLength(2);
  });
});

describe('prepareFiles refusals', () => {
  const file = (name: string, type: string) => new File([new Uint8Array([1, 2, 3])], name, { type });

  it('says which files are unsupported and which the model does not accept', async () => {
    const { attachments, problems } = await prepareFiles(
      [file('archive.zip', 'application/zip'), file('pic.png', 'image/png'), file('notes.pdf', 'application/pdf')],
      model(false, false),
      [],
    );
    expect(attachments).toEqual([]);
    expect(problems).toEqual([
      { key: 'attach.unsupported', params: { name: 'archive.zip' } },
      { key: 'attach.noVision', params: { name: 'pic.png', model: 'Model M' } },
      { key: 'attach.noDocuments', params: { name: 'notes.pdf', model: 'Model M' } },
    ]);
  });

  it('stops at the attachment and per-kind limits', async () => {
    const full = Array.from({ length: limits.maxAttachments }, (_, i) => image(`i${i}`));
    expect((await prepareFiles([file('one-more.png', 'image/png')], model(true, true), full)).problems).toEqual([
      { key: 'attach.tooMany', params: { max: limits.maxAttachments } },
    ]);
    const docs = Array.from({ length: limits.maxDocuments }, (_, i) => doc(`d${i}`));
    expect((await prepareFiles([file('sixth.txt', 'text/plain')], model(true, true), docs)).problems).toEqual([
      { key: 'attach.tooManyDocuments', params: { max: limits.maxDocuments } },
    ]);
  });
});
