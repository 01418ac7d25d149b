import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { Job } from 'bullmq';
import type { RedisClient as Redis } from '@switchboard/server-core';
import { defaultModel, type ModelEntry, textOf } from '@switchboard/contracts';
import {
  cleanTitle,
  isAutomaticTitle,
  type Logger,
  publishConversationUpdate,
  type SpendRepository,
  type TitleJobData,
  titleRequest,
} from '@switchboard/server-core';
import type { QuotaJobData } from '../quota/admission.js';
import { type BatchQuota, callModel } from '../summarize/model-call.js';
import type { TitlesRepository } from './titles.repository.js';

export type TitleProcessorDeps = {
  redis: Redis;
  queuePrefix: string;
  bedrock: BedrockRuntimeClient;
  repository: TitlesRepository;
  models: () => readonly ModelEntry[];
  quota: BatchQuota;
  logger: Logger;
  /** Usage ledger (titles are Bedrock calls too, paid by the conversation's owner). */
  spend?: SpendRepository;
};

/**
 * Writes a short title for a conversation from its first exchange: one small call in the
 * governor's batch lane (chats go first), stored only while nobody chose a title, then announced
 * to the user's sockets. Any failure leaves the first-words title in place.
 */
/** The exchange to title, from Postgres; undefined when there is none or its title was chosen. */
async function readExchange(repository: TitlesRepository, conversationId: string, owner: string): Promise<TitleJobData['exchange']> {
  const conversation = await repository.conversation(conversationId, owner);
  if (!conversation) return undefined;
  const { question, answer } = await repository.firstExchange(conversationId);
  if (!question || !answer || !isAutomaticTitle(conversation.title, question.content)) return undefined;
  const documents = question.content.flatMap((b) => (b.type === 'document' ? [b.name] : []));
  return { title: conversation.title, modelId: conversation.modelId, question: textOf(question.content) || documents.join(', '), answer: textOf(answer.content) };
}

export function createTitleProcessor(deps: TitleProcessorDeps) {
  return async (job: Job<TitleJobData & QuotaJobData>, token?: string, signal?: AbortSignal): Promise<void> => {
    const { conversationId, owner } = job.data;
    const exchange = job.data.exchange ?? (await readExchange(deps.repository, conversationId, owner));
    if (!exchange) return;
    const models = deps.models();
    const model = models.find((m) => m.id === exchange.modelId) ?? defaultModel(models);
    if (!model) return;
    const request = titleRequest(exchange.question, exchange.answer);
    const payer = { principal: owner, kind: 'person' as const, groups: job.data.groups ?? [] };
    const spending = deps.spend ? { spending: { repository: deps.spend, payer, conversationId } } : {};
    // The new title goes in one statement with the call's ledger row (only while nobody chose one).
    const titleOf = (text: string) => {
      const title = cleanTitle(text);
      return title && title !== exchange.title ? title : undefined;
    };
    const reply = await callModel(
      { bedrock: deps.bedrock, job, token, signal, owner, quota: deps.quota, ...spending },
      {
        model,
        ...request,
        purpose: 'title',
        // A few words: the least thinking the model allows (models that always think would spend more on it than on the title).
        effort: 'low',
        writeWith: (text) => {
          const title = titleOf(text);
          return title ? deps.repository.replaceTitleWrite(conversationId, exchange.title, title) : undefined;
        },
      },
    );
    const title = titleOf(reply.text);
    if (!title) return;
    const replaced = reply.written !== undefined ? reply.written > 0 : await deps.repository.replaceTitle(conversationId, exchange.title, title);
    if (!replaced) return;
    deps.logger.info({ conversationId, usage: reply.usage }, 'conversation titled');
    await publishConversationUpdate(deps.redis, deps.queuePrefix, owner, { conversationId, change: 'title', title });
  };
}
