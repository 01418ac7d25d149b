import type { ModelEntry } from '@switchboard/contracts';
import type { MessageRow } from '@switchboard/server-core';
import { buildConverseRequest } from './converse-request.js';

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
