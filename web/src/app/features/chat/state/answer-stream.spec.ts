import { AnswerStream, finalText } from './answer-stream';

const d = (seq: number, text: string, reasoning?: string) => ({ seq, text, ...(reasoning !== undefined ? { reasoning } : {}) });

describe('AnswerStream', () => {
  it('appends deltas that come in order, one by one', () => {
    const s = new AnswerStream();
    expect(s.accept(d(1, 'Hel'))).toEqual({ text: 'Hel', reasoning: '', advanced: true, resumeAfter: null });
    expect(s.accept(d(2, 'lo'))).toEqual({ text: 'lo', reasoning: '', advanced: true, resumeAfter: null });
    expect(s.lastSeq).toBe(2);
    expect(s.pending).toBe(0);
  });

  it('holds a delta that comes early and appends it with the missing one, in seq order', () => {
    const s = new AnswerStream();
    s.accept(d(1, 'a'));
    const early = s.accept(d(3, 'c'));
    expect(early.advanced).toBe(false);
    expect(early.text).toBe('');
    expect(s.pending).toBe(1);
    expect(s.accept(d(2, 'b'))).toEqual({ text: 'bc', reasoning: '', advanced: true, resumeAfter: null });
    expect(s.lastSeq).toBe(3);
    expect(s.pending).toBe(0);
  });

  it('drops duplicates of deltas already shown (a resume replays them)', () => {
    const s = new AnswerStream();
    s.accept(d(1, 'a'));
    s.accept(d(2, 'b'));
    expect(s.accept(d(1, 'a'))).toEqual({ text: '', reasoning: '', advanced: false, resumeAfter: null });
    expect(s.accept(d(2, 'b')).advanced).toBe(false);
    expect(s.accept(d(3, 'c')).text).toBe('c');
  });

  it('a duplicate of a held delta does not append it twice', () => {
    const s = new AnswerStream();
    s.accept(d(2, 'b'));
    s.accept(d(2, 'b'));
    expect(s.pending).toBe(1);
    expect(s.accept(d(1, 'a')).text).toBe('ab');
  });

  it('asks once to resume after the last contiguous delta when there is a gap, again after the answer came', () => {
    const s = new AnswerStream();
    s.accept(d(1, 'a'));
    expect(s.accept(d(3, 'c')).resumeAfter).toBe(1);
    // Still waiting for the replay: no second request.
    expect(s.accept(d(4, 'd')).resumeAfter).toBeNull();
    s.resumeSettled();
    expect(s.accept(d(5, 'e')).resumeAfter).toBe(1);
    // The replay fills the gap; its duplicates are dropped.
    expect(s.accept(d(2, 'b')).text).toBe('bcde');
    expect(s.accept(d(3, 'c')).advanced).toBe(false);
    expect(s.lastSeq).toBe(5);
  });

  it('continues after a resume point given at start (a replay from seq 0 after a reload)', () => {
    const s = new AnswerStream(4);
    expect(s.accept(d(3, 'old')).advanced).toBe(false);
    expect(s.accept(d(5, 'new')).text).toBe('new');
  });

  it('keeps reasoning and text apart, each in seq order', () => {
    const s = new AnswerStream();
    expect(s.accept(d(1, '', 'Think'))).toEqual({ text: '', reasoning: 'Think', advanced: true, resumeAfter: null });
    s.accept(d(3, 'Ans'));
    expect(s.accept(d(2, '', 'ing.'))).toEqual({ text: 'Ans', reasoning: 'ing.', advanced: true, resumeAfter: null });
    expect(s.accept(d(4, 'wer', ''))).toEqual({ text: 'wer', reasoning: '', advanced: true, resumeAfter: null });
  });

  it('after done with a gap left, drops the held deltas and everything later', () => {
    const s = new AnswerStream();
    s.accept(d(1, 'a'));
    s.accept(d(3, 'c'));
    s.finish();
    expect(s.finished).toBe(true);
    expect(s.pending).toBe(0);
    expect(s.accept(d(2, 'b'))).toEqual({ text: '', reasoning: '', advanced: false, resumeAfter: null });
    expect(s.lastSeq).toBe(1);
  });
});

describe('finalText', () => {
  it("takes the server's text, even over a gappy stream", () => {
    expect(finalText('abc', 'a', false)).toBe('abc');
    expect(finalText('abc', 'a', true)).toBe('abc');
  });

  it('keeps what was shown when a stopped answer reports no text', () => {
    expect(finalText('', 'partial', true)).toBe('partial');
    expect(finalText('', 'partial', false)).toBe('');
  });
});
