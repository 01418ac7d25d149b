import { Queue, Worker } from 'bullmq';
import {
  type AppConfig,
  assertRedisReachable,
  chatQueueName,
  createLogger,
  createRedis,
  loadCatalog,
  loadConfig,
  openDatabase,
  QuotaGovernor,
} from '@switchboard/server-core';
import { createBedrockClient } from './bedrock/bedrock-client.js';
import { listenForCancels } from './cancel/cancel-listener.js';
import { createChatProcessor } from './chat/chat.processor.js';
import { ChatTurnsRepository } from './chat/chat-turns.repository.js';
import { createBatchWorkers } from './summarize/summarize.worker.js';

export type RunningWorker = { close(): Promise<void> };

/** Starts the queue workers of this process; used by main.ts and by the single-process launcher. */
export async function startWorker(config: AppConfig = loadConfig()): Promise<RunningWorker> {
  const logger = createLogger('worker', config.logLevel);
  await assertRedisReachable(config.redisUrl);
  // Each running chat makes a few short queries; a small pool per process serves many streams.
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 20 });
  const redis = createRedis(config.redisUrl, 'commands');
  const blocking = createRedis(config.redisUrl, 'blocking');
  const subscriber = createRedis(config.redisUrl, 'subscriber');
  const bedrock = createBedrockClient(config);
  const models = loadCatalog(config.modelsFile);
  const governor = new QuotaGovernor(redis, { prefix: config.queuePrefix, ...config.quota });
  const laneQueues = { chat: new Queue(chatQueueName, { connection: redis, prefix: config.queuePrefix }) };

  const chatWorker = new Worker(
    chatQueueName,
    createChatProcessor({ redis, bedrock, governor, laneQueues, turns: new ChatTurnsRepository(database.db), models: () => models, logger }),
    { connection: blocking, prefix: config.queuePrefix, concurrency: config.workerConcurrency, autorun: false },
  );
  chatWorker.on('error', (err) => logger.error({ err }, 'chat worker error'));
  chatWorker.on('failed', (job, err) => logger.warn({ jobId: job?.id, err: err.message }, 'chat job attempt failed'));
  const batch = createBatchWorkers({ config, redis, blocking, subscriber, bedrock, database, models: () => models, logger, quota: { governor, laneQueues } });
  await listenForCancels(subscriber, config.queuePrefix, [chatWorker, batch.summarize]);
  void chatWorker.run();
  await chatWorker.waitUntilReady();
  await batch.run();
  logger.info({ concurrency: config.workerConcurrency, bedrockMode: config.bedrockMode }, 'worker ready');

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        // Lets running answers finish (ECS gives stopTimeout); picks up nothing new meanwhile.
        await Promise.all([chatWorker.close(), batch.close()]);
        await Promise.all(Object.values(laneQueues).map((q) => q.close()));
        subscriber.disconnect();
        await redis.quit().catch(() => redis.disconnect());
        blocking.disconnect();
        bedrock.destroy();
        await database.close();
      })()),
  };
}
