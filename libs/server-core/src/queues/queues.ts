import type { ModelParams } from '@switchboard/contracts';

export const chatQueueName = 'chat';

/** What the API puts on the chat queue; everything else is read from Postgres by the worker. */
export type ChatJobData = {
  jobId: string;
  owner: string;
  conversationId: string;
  userMessageId: string;
  assistantMessageId: string;
  modelId: string;
  params: ModelParams;
  /** Correlation id that follows the chat from the socket through the queue to the worker. */
  requestId: string;
};

/** Workers listen here for cancels of jobs they might hold (one subscription per worker). */
export const cancelChannel = (queuePrefix: string) => `${queuePrefix}:cancel`;
/** Set when a cancel is asked, so a job picked up afterwards stops before calling Bedrock. */
export const cancelKey = (jobId: string) => `{job:${jobId}}:cancel`;
/** Nodes with sockets of a user hear here about that user's new jobs. */
export const userChannel = (queuePrefix: string, owner: string) => `${queuePrefix}:user:${owner}`;
