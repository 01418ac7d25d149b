import { type BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import type { Job } from 'bullmq';
import type { ModelEntry, Usage } from '@switchboard/contracts';

export type ModelCallContext = {
  bedrock: BedrockRuntimeClient;
  job: Job;
  token: string | undefined;
  signal: AbortSignal | undefined;
  owner: string;
};

export type ModelCall = { model: ModelEntry; system: string; prompt: string; maxTokens: number };
export type ModelAnswer = { text: string; usage: Usage; stopReason: string };

/**
 * The one Bedrock call of batch summarization (every chunk, combine and single-pass summary).
 * Aborting the signal (a cancel) stops generation at Bedrock.
 */
export async function callModel(ctx: ModelCallContext, call: ModelCall): Promise<ModelAnswer> {
  const response = await ctx.bedrock.send(
    new ConverseCommand({
      modelId: call.model.id,
      system: [{ text: call.system }],
      messages: [{ role: 'user', content: [{ text: call.prompt }] }],
      inferenceConfig: { maxTokens: call.maxTokens, temperature: 0.2 },
    }),
    { abortSignal: ctx.signal },
  );
  const text = (response.output?.message?.content ?? []).map((b) => b.text ?? '').join('');
  const usage = { inputTokens: response.usage?.inputTokens ?? 0, outputTokens: response.usage?.outputTokens ?? 0 };
  return { text, usage, stopReason: response.stopReason ?? 'end_turn' };
}
