/** Injection tokens of the batch-job queues (BullMQ producers on the API's command connection). */
export const SUMMARIZE_QUEUE = Symbol('SUMMARIZE_QUEUE');
export const WEBHOOKS_QUEUE = Symbol('WEBHOOKS_QUEUE');
