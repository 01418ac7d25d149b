import { pngHeader } from '@switchboard/bedrock-emulator';
import { inputCountingOf, type ModelEntry } from '@switchboard/contracts';
import type { MessageRow } from '@switchboard/server-core';
import { branchOf, buildConverseRequest, estimateHistoryTokens, planHistory } from './converse-request.js';

const model: ModelEntry = {
  id: 'anthropic.claude-3-haiku-20240307-v1:0',
  name: 'Claude 3 Haiku',
  vision: true,
  documents: true,
  maxOutputTokens: 4096,
  contextWindow: 200_000,
  quota: { requestsPerMinute: 10, tokensPerMinute: 10_000 },
  price: { inputPer1k: 0, outputPer1k: 0 },
};

let position = 0;
const row = (role: 'user' | 'assistant', content: MessageRow['content'], status: MessageRow['status'] = 'complete') =>
  ({ role, content, status, position: ++position }) as MessageRow;

describe('buildConverseRequest', () => {
  it('maps history, system prompt and parameters (topK as an additional field)', () => {
    const input = buildConverseRequest({
      model,
      systemPrompt: 'Be brief',
      params: { temperature: 0.5, topP: 0.9, topK: 40, maxTokens: 10_000 },
      delivered: '',
      history: [
        row('user', [{ type: 'text', text: 'Hi' }, { type: 'image', mediaType: 'image/png', data: 'aGVsbG8=' }]),
        row('assistant', [{ type: 'text', text: 'Hello' }]),
        row('user', [{ type: 'document', name: 'Q3 report.pdf', format: 'pdf', data: 'aGVsbG8=' }]),
      ],
    });
    expect(input.system).toEqual([{ text: 'Be brief' }]);
    expect(input.inferenceConfig).toEqual({ maxTokens: 4096, temperature: 0.5, topP: 0.9 });
    expect(input.additionalModelRequestFields).toEqual({ top_k: 40 });
    expect(input.messages!.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(input.messages![0]!.content![1]).toEqual({ image: { format: 'png', source: { bytes: Buffer.from('hello') } } });
    expect(input.messages![2]!.content![0]).toMatchObject({ document: { format: 'pdf', name: 'Q3 report' } });
  });

  it('drops failed and empty answers and merges the user turns they leave side by side', () => {
    const input = buildConverseRequest({
      model,
      systemPrompt: null,
      params: {},
      delivered: '',
      history: [
        row('user', [{ type: 'text', text: 'One' }]),
        row('assistant', [], 'failed'),
        row('user', [{ type: 'text', text: 'Two' }]),
      ],
    });
    expect(input.system).toBeUndefined();
    expect(input.messages).toEqual([{ role: 'user', content: [{ text: 'One' }, { text: 'Two' }] }]);
  });

  it('prefills what an earlier attempt delivered, without trailing whitespace', () => {
    const input = buildConverseRequest({
      model,
      systemPrompt: null,
      params: {},
      delivered: 'Half an answer \n',
      history: [row('user', [{ type: 'text', text: 'Q' }])],
    });
    expect(input.messages!.at(-1)).toEqual({ role: 'assistant', content: [{ text: 'Half an answer' }] });
  });
});

describe('branches and history plans', () => {
  const msg = (id: string, parentId: string | null, role: 'user' | 'assistant', text: string) =>
    ({ id, parentId, role, content: [{ type: 'text', text }], status: 'complete', position: ++position }) as MessageRow;
  // u1 → a1 → u2 → a2, and an edit u2b under a1, and a regenerated a1b under u1.
  const all = [
    msg('u1', null, 'user', 'one'),
    msg('a1', 'u1', 'assistant', 'x'.repeat(700)),
    msg('u2', 'a1', 'user', 'two'),
    msg('a2', 'u2', 'assistant', 'y'.repeat(700)),
    msg('a1b', 'u1', 'assistant', 'regenerated'),
    msg('u2b', 'a1', 'user', 'two, edited'),
  ];
  const ids = (rows: readonly MessageRow[]) => rows.map((r) => r.id);
  const none = { summary: null, summaryUptoMessageId: null };
  const claude3 = inputCountingOf({ id: 'anthropic.claude-3-sonnet-20240229-v1:0' });

  it('walks the parent chain from the user message, ignoring other branches', () => {
    expect(ids(branchOf(all, 'u2b'))).toEqual(['u1', 'a1', 'u2b']);
    expect(ids(branchOf(all, 'u2'))).toEqual(['u1', 'a1', 'u2']);
    expect(ids(branchOf(all, 'u1'))).toEqual(['u1']);
  });

  it('keeps the last historyMessages messages', () => {
    const chain = [...branchOf(all, 'u2'), msg('a2x', 'u2', 'assistant', 'z'), msg('u3', 'a2x', 'user', 'three')];
    expect(ids(planHistory(chain, none, { historyMessages: 3 }, claude3).recent)).toEqual(['u2', 'a2x', 'u3']);
    expect(ids(planHistory(chain, none, {}, claude3).recent)).toHaveLength(5);
  });

  it('marks everything before the last exchange for compression past the threshold, and uses a summary of this branch only', () => {
    const chain = [...branchOf(all, 'u2'), all[3]!, msg('u3', 'a2', 'user', 'three')];
    expect(planHistory(chain, none, { compressThreshold: 1000 }, claude3).compress).toBeUndefined();
    const plan = planHistory(chain, none, { compressThreshold: 300 }, claude3);
    expect(ids(plan.compress!.covered)).toEqual(['u1', 'a1']);
    expect(plan.compress).toMatchObject({ coversMessages: 2, upto: { id: 'a1' } });

    const summarized = planHistory(chain, { summary: 'S', summaryUptoMessageId: 'a1' }, { compressThreshold: 1000 }, claude3);
    expect(summarized).toEqual({ recent: chain.slice(2), summary: 'S' });
    // A summary made on another branch is not this branch's history.
    expect(planHistory(chain, { summary: 'S', summaryUptoMessageId: 'a1b' }, {}, claude3).summary).toBeNull();
    expect(estimateHistoryTokens([all[1]!], claude3)).toBe(200);
  });

  it('counts history as the model does: a tokenizer that makes more tokens compresses sooner, images by their size', () => {
    const chain = [...branchOf(all, 'u2'), all[3]!, msg('u3', 'a2', 'user', 'three')];
    const opus47 = inputCountingOf({ id: 'anthropic.claude-opus-4-7' });
    expect(estimateHistoryTokens([all[1]!], opus47)).toBe(270);
    const threshold = estimateHistoryTokens(chain.slice(0, -1), claude3) + 1;
    expect(planHistory(chain, none, { compressThreshold: threshold }, claude3).compress).toBeUndefined();
    expect(planHistory(chain, none, { compressThreshold: threshold }, opus47).compress).toBeDefined();
    const image = (data: string) => ({ ...all[1]!, content: [{ type: 'image', mediaType: 'image/png', data }] }) as MessageRow;
    // A size it cannot read counts the model's most; a small image a sixth over (width × height) / 750.
    expect([estimateHistoryTokens([image('')], claude3), estimateHistoryTokens([image('')], opus47)]).toEqual([1600, 5000]);
    const small = image(pngHeader(300, 250).toString('base64'));
    expect([estimateHistoryTokens([small], claude3), estimateHistoryTokens([small], opus47)]).toEqual([117, 117]);
    // A format Bedrock does not take (an SVG names any size it likes) counts the most.
    const svg = image(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>').toString('base64'));
    expect(estimateHistoryTokens([svg], claude3)).toBe(1600);
    const large = image(pngHeader(1568, 1568).toString('base64'));
    expect([estimateHistoryTokens([large], claude3), estimateHistoryTokens([large], opus47)]).toEqual([1600, 3825]);
  });

  it('sends the summary in the system prompt after the conversation system prompt', () => {
    const input = buildConverseRequest({ model, systemPrompt: 'Be brief', summary: 'S', params: {}, delivered: '', history: [row('user', [{ type: 'text', text: 'Q' }])] });
    expect(input.system).toEqual([{ text: 'Be brief\n\nSummary of the earlier part of this conversation:\nS' }]);
  });
});
