import type { ContentBlock, ConverseStreamCommandInput, Message } from '@aws-sdk/client-bedrock-runtime';
import type { Block, ModelEntry, ModelParams } from '@switchboard/contracts';
import type { MessageRow } from '@switchboard/server-core';

/** Without an explicit maxTokens, ask for no more than this (Bedrock reserves maxTokens against TPM). */
export const defaultMaxTokens = 4096;

export function maxTokensFor(model: ModelEntry, params: ModelParams): number {
  return Math.min(params.maxTokens ?? defaultMaxTokens, model.maxOutputTokens);
}

/**
 * Builds the ConverseStream input: system prompt, the conversation so far, parameters (topK as an
 * additional model field) and, when an earlier attempt already delivered part of the answer, that
 * part as an assistant prefill so the model continues instead of starting over.
 */
export function buildConverseRequest(opts: {
  model: ModelEntry;
  systemPrompt: string | null;
  history: MessageRow[];
  params: ModelParams;
  delivered: string;
}): ConverseStreamCommandInput {
  const { model, params } = opts;
  const messages = mergeSameRole(
    opts.history
      .filter((m) => m.role === 'user' || m.status === 'complete' || m.status === 'cancelled')
      .map((m) => ({ role: m.role, content: m.content.map(toBedrockBlock) }))
      .filter((m) => m.content.length > 0),
  );
  // Bedrock rejects a prefill that ends in whitespace.
  const prefill = opts.delivered.trimEnd();
  if (prefill) messages.push({ role: 'assistant', content: [{ text: prefill }] });
  const inferenceConfig: NonNullable<ConverseStreamCommandInput['inferenceConfig']> = {
    maxTokens: maxTokensFor(model, params),
  };
  if (params.temperature !== undefined) inferenceConfig.temperature = params.temperature;
  if (params.topP !== undefined) inferenceConfig.topP = params.topP;
  return {
    modelId: model.id,
    messages,
    ...(opts.systemPrompt ? { system: [{ text: opts.systemPrompt }] } : {}),
    inferenceConfig,
    ...(params.topK !== undefined ? { additionalModelRequestFields: { top_k: params.topK } } : {}),
  };
}

function toBedrockBlock(block: Block): ContentBlock {
  switch (block.type) {
    case 'text':
      return { text: block.text };
    case 'image':
      return {
        image: {
          format: block.mediaType.slice('image/'.length) as 'png' | 'jpeg' | 'gif' | 'webp',
          source: { bytes: Buffer.from(block.data, 'base64') },
        },
      };
    case 'document':
      return { document: { format: block.format, name: documentName(block.name), source: { bytes: Buffer.from(block.data, 'base64') } } };
  }
}

/** Bedrock allows letters, digits, single spaces, hyphens, parentheses and brackets in names. */
function documentName(name: string): string {
  const cleaned = name
    .replace(/\.[^.]+$/, '')
    .replace(/[^A-Za-z0-9\s\-()[\]]/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned || 'document';
}

/** Roles must alternate: a user turn whose answer failed leaves two user messages in a row. */
function mergeSameRole(messages: { role: 'user' | 'assistant'; content: ContentBlock[] }[]): Message[] {
  const merged: Message[] = [];
  for (const m of messages) {
    const last = merged.at(-1);
    if (last && last.role === m.role) last.content!.push(...m.content);
    else merged.push({ role: m.role, content: [...m.content] });
  }
  while (merged[0]?.role === 'assistant') merged.shift();
  return merged;
}
