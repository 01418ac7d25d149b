import type { ConversationUsage, PublicModel } from '@switchboard/contracts';
import { costOf } from '../../../shared/cost';
import type { UiMessage } from './ui-message';

export type ConversationTotals = { inputTokens: number; outputTokens: number; cost: number | null; any: boolean };

/** Tokens and cost of the answers shown, or the server's figures when they are at least as fresh. */
export function conversationTotals(
  messages: readonly UiMessage[],
  server: ConversationUsage | undefined,
  modelOf: (id: string | null) => PublicModel | undefined,
): ConversationTotals {
  let inputTokens = 0;
  let outputTokens = 0;
  let cost = 0;
  let priced = false;
  for (const m of messages) {
    if (!m.usage) continue;
    inputTokens += m.usage.inputTokens;
    outputTokens += m.usage.outputTokens;
    const c = m.cost ?? costOf(m.usage, modelOf(m.modelId));
    if (c !== null) {
      cost += c;
      priced = true;
    }
  }
  // The server's totals also cover other branches; a snapshot older than the answers shown loses.
  if (server && server.inputTokens >= inputTokens && server.outputTokens >= outputTokens) {
    return { inputTokens: server.inputTokens, outputTokens: server.outputTokens, cost: server.cost, any: server.inputTokens + server.outputTokens > 0 };
  }
  return { inputTokens, outputTokens, cost: priced ? cost : null, any: inputTokens + outputTokens > 0 };
}
