import { rulesOf, type ModelEntry, type ModelParams } from '@switchboard/contracts';
import { buildChatInput, buildTextInput, type ConverseInput } from './converse-input.js';

/**
 * The operators' real-AWS check (`npm run smoke:aws`): per catalog model one short streamed chat for
 * each parameter combination the portal offers, a thinking turn, a cached second turn and a small
 * summarize call — built by the same code the worker uses.
 */
export type SmokeCase = {
  modelId: string;
  name: string;
  /** Calls made in order; a later one may be checked for cache reads. */
  calls: { input: ConverseInput; stream: boolean }[];
  /** What the last call must show besides answering. */
  expect?: 'reasoning' | 'cacheRead';
};

export type SmokeResult = { modelId: string; name: string; ok: boolean; detail: string };

/** What a call returned, read from a Converse response or a ConverseStream event stream. */
export type SmokeAnswer = { text: string; reasoning: string; cacheReadTokens: number; cacheWriteTokens: number };

/** The combinations the portal's settings offer for a model (see the conversation settings dialog). */
export function portalParamCombos(model: ModelEntry): { name: string; params: ModelParams }[] {
  const rules = rulesOf(model);
  if (!rules.sampling) {
    // The portal offers none; a conversation that stored them under another model: the worker drops them.
    return [
      { name: 'defaults', params: { maxTokens: 64 } },
      { name: 'stored temperature+topP+topK', params: { maxTokens: 64, temperature: 0.3, topP: 0.8, topK: 40 } },
      ...effortCombos(model),
    ];
  }
  const combos: { name: string; params: ModelParams }[] = [
    { name: 'defaults', params: { maxTokens: 64 } },
    { name: 'temperature', params: { maxTokens: 64, temperature: 0.3 } },
    { name: 'topP', params: { maxTokens: 64, topP: 0.8 } },
  ];
  if (!rules.exclusiveSampling) combos.push({ name: 'temperature+topP', params: { maxTokens: 64, temperature: 0.3, topP: 0.8 } });
  // A conversation stored before the rules: both set; the worker sends what the model takes.
  else combos.push({ name: 'stored temperature+topP', params: { maxTokens: 64, temperature: 0.3, topP: 0.8 } });
  if (rules.topK) combos.push({ name: 'topK', params: { maxTokens: 64, topK: Math.min(rules.topK.max, Math.max(rules.topK.min, 40)) } });
  return [...combos, ...effortCombos(model)];
}

/** Each effort level the model takes, on its own (the portal offers it beside any other setting). */
function effortCombos(model: ModelEntry): { name: string; params: ModelParams }[] {
  const rules = rulesOf(model);
  return rules.effort ? rules.effort.levels.map((effort) => ({ name: `effort ${effort}`, params: { maxTokens: 64, effort } })) : [];
}

const question = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Reply with one short sentence: what is a queue?' }] }];

export function smokeCases(catalog: readonly ModelEntry[]): SmokeCase[] {
  const cases: SmokeCase[] = [];
  for (const model of catalog) {
    const rules = rulesOf(model);
    for (const combo of portalParamCombos(model)) {
      cases.push({
        modelId: model.id,
        name: `chat ${combo.name}`,
        calls: [{ input: buildChatInput({ model, system: 'Be brief.', messages: question, params: combo.params }), stream: true }],
      });
    }
    if (rules.thinking) {
      cases.push({
        modelId: model.id,
        name: 'thinking turn',
        calls: [{ input: buildChatInput({ model, system: null, messages: question, params: { maxTokens: 256, thinkingBudget: rules.thinking.minBudget } }), stream: true }],
        expect: 'reasoning',
      });
      if (rules.effort) {
        // Thinking at the lowest effort the model takes (it may then skip thinking: no reasoning expected).
        const params = { maxTokens: 256, thinkingBudget: rules.thinking.minBudget, effort: rules.effort.levels[0] };
        cases.push({ modelId: model.id, name: `thinking turn, effort ${params.effort}`, calls: [{ input: buildChatInput({ model, system: null, messages: question, params }), stream: true }] });
      }
    }
    // A retried answer that goes on after delivered text: a prefill, or a user turn where the model takes none.
    cases.push({
      modelId: model.id,
      name: 'continued answer',
      calls: [{ input: buildChatInput({ model, system: 'Be brief.', messages: question, params: { maxTokens: 64 }, prefill: 'A queue is', thinking: false }), stream: true }],
    });
    if (rules.promptCache) {
      // A first turn long enough to cache, then the second turn of the same conversation.
      const long = `Reference notes (repeat of a long document):\n${'Queues hold work until a worker takes it. '.repeat(Math.ceil((rules.promptCache.minTokens * 4 * 1.5) / 42))}`;
      const first = [{ role: 'user' as const, content: [{ type: 'text' as const, text: `${long}\n\nSay OK.` }] }];
      const second = [...first, { role: 'assistant' as const, content: [{ type: 'text' as const, text: 'OK.' }] }, ...question];
      cases.push({
        modelId: model.id,
        name: 'cached second turn',
        calls: [
          { input: buildChatInput({ model, system: 'Be brief.', messages: first, params: { maxTokens: 16 } }), stream: true },
          { input: buildChatInput({ model, system: 'Be brief.', messages: second, params: { maxTokens: 64 } }), stream: true },
        ],
        expect: 'cacheRead',
      });
    }
    cases.push({
      modelId: model.id,
      name: 'summarize call',
      calls: [
        {
          input: buildTextInput({
            model,
            system: 'You write faithful, concise summaries. Answer with the summary only, without a preamble.',
            prompt: 'Summarize the text below in at most 20 words.\n\n<text>\nA queue decouples producers from consumers so bursts wait instead of failing.\n</text>',
            maxTokens: 64,
            temperature: 0.2,
          }),
          stream: false,
        },
      ],
    });
  }
  return cases;
}

/** Reads a Converse response or a ConverseStream response (structurally, as the SDK returns them). */
export async function readSmokeAnswer(response: unknown): Promise<SmokeAnswer> {
  const out: SmokeAnswer = { text: '', reasoning: '', cacheReadTokens: 0, cacheWriteTokens: 0 };
  type Usage = { cacheReadInputTokens?: number; cacheWriteInputTokens?: number };
  type Delta = { text?: string; reasoningContent?: { text?: string } };
  type Block = { text?: string; reasoningContent?: { reasoningText?: { text?: string } } };
  const r = response as {
    stream?: AsyncIterable<{ contentBlockDelta?: { delta?: Delta }; metadata?: { usage?: Usage } }>;
    output?: { message?: { content?: Block[] } };
    usage?: Usage;
  };
  const takeUsage = (u: Usage | undefined) => {
    out.cacheReadTokens = u?.cacheReadInputTokens ?? 0;
    out.cacheWriteTokens = u?.cacheWriteInputTokens ?? 0;
  };
  if (r.stream) {
    for await (const event of r.stream) {
      const delta = event.contentBlockDelta?.delta;
      if (delta?.text) out.text += delta.text;
      if (delta?.reasoningContent?.text) out.reasoning += delta.reasoningContent.text;
      if (event.metadata?.usage) takeUsage(event.metadata.usage);
    }
  } else {
    for (const block of r.output?.message?.content ?? []) {
      if (block.text) out.text += block.text;
      if (block.reasoningContent?.reasoningText?.text) out.reasoning += block.reasoningContent.reasoningText.text;
    }
    takeUsage(r.usage);
  }
  return out;
}

/**
 * Runs the cases one after another through `call` (the SDK's Converse/ConverseStream send) and
 * reports each with Bedrock's error text when it failed.
 */
export async function runSmoke(call: (input: ConverseInput, stream: boolean) => Promise<unknown>, cases: readonly SmokeCase[]): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  for (const c of cases) {
    let detail = '';
    let ok = true;
    try {
      let answer: SmokeAnswer | undefined;
      for (const step of c.calls) answer = await readSmokeAnswer(await call(step.input, step.stream));
      if (!answer?.text.trim()) [ok, detail] = [false, 'empty answer'];
      else if (c.expect === 'reasoning' && !answer.reasoning) [ok, detail] = [false, 'no reasoning streamed'];
      else if (c.expect === 'cacheRead' && !(answer.cacheReadTokens > 0)) [ok, detail] = [false, `no cache read (write ${answer.cacheWriteTokens})`];
      else detail = c.expect === 'cacheRead' ? `cache read ${answer.cacheReadTokens}` : c.expect === 'reasoning' ? `${answer.reasoning.length} chars thought` : 'ok';
    } catch (err) {
      ok = false;
      const e = err as { name?: string; message?: string };
      detail = `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
    }
    results.push({ modelId: c.modelId, name: c.name, ok, detail });
  }
  return results;
}

/** The pass/fail table the script prints. */
export function formatSmokeTable(results: readonly SmokeResult[]): string {
  const rows = results.map((r) => [r.ok ? 'PASS' : 'FAIL', r.modelId, r.name, r.detail.replace(/\s+/g, ' ')]);
  const head = ['result', 'model', 'check', 'detail'];
  const widths = head.map((h, i) => Math.min(i === 3 ? 200 : 60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
