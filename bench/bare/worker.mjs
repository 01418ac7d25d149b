/**
 * The worker half of issue 19's bare pipeline (see api.mjs): a BullMQ worker that streams each
 * job's answer from Bedrock with the AWS SDK (ConverseStream, keep-alive HTTP/1.1 like the
 * product) into the job's stream with the product's own XADD+PUBLISH script (jobStreamAppender),
 * then its ending. With the product's timing stamps, so bench:chat reports the same hops.
 * Env: REDIS_URL, AWS_ENDPOINT_URL_BEDROCK_RUNTIME, MODEL_ID, CONCURRENCY. Prints "worker ready".
 */
import { Agent } from 'node:http';
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { jobStreamAppender, stampNow } from '@switchboard/server-core';

const connection = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
const appender = jobStreamAppender(new Redis(process.env.REDIS_URL));
const bedrock = new BedrockRuntimeClient({
  endpoint: process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
  region: 'us-east-1',
  maxAttempts: 1,
  credentials: { accessKeyId: 'bare', secretAccessKey: 'bare' },
  requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: Infinity }) }),
});

const worker = new Worker(
  'chat',
  async (job) => {
    const picked = stampNow();
    const { jobId, text: prompt } = job.data;
    const sent = stampNow();
    const response = await bedrock.send(
      new ConverseStreamCommand({ modelId: process.env.MODEL_ID, messages: [{ role: 'user', content: [{ text: prompt }] }], inferenceConfig: { maxTokens: 4096 } }),
    );
    let seq = 0;
    let text = '';
    const appends = [];
    for await (const event of response.stream ?? []) {
      const delta = event.contentBlockDelta?.delta?.text;
      if (!delta) continue;
      const at = stampNow();
      seq++;
      text += delta;
      const entry = { kind: 'delta', seq, text: delta, tm: [at, stampNow()], ...(seq === 1 ? { hop: [job.timestamp, picked, sent] } : {}) };
      appends.push(appender.append(jobId, entry, seq - 1, seq === 1));
    }
    await Promise.all(appends); // a failed append fails the job, and none goes unhandled
    await appender.append(jobId, { kind: 'done', seq: seq + 1, event: { status: 'completed', text } }, seq, true);
  },
  { connection, prefix: '{bare}', concurrency: Number(process.env.CONCURRENCY ?? 256) },
);
worker.on('error', (err) => console.error('bare worker error', err.message));
await worker.waitUntilReady();
console.log('worker ready');
process.on('SIGTERM', async () => {
  await worker.close();
  process.exit(0);
});
