import { Worker } from 'bullmq';
import {
  type AppConfig,
  assertRedisReachable,
  type ChatJobData,
  chatQueueName,
  createLogger,
  createRedis,
  loadConfig,
  openDatabase,
  producerQueue,
  QuotaGovernor,
  type TitleJobData,
  titlesQueueName,
} from '@switchboard/server-core';
import { createBedrockClient } from './bedrock/bedrock-client.js';
import { CatalogHolder } from './catalog/catalog-holder.js';
import { listenForCancels } from './cancel/cancel-listener.js';
import { createChatProcessor } from './chat/chat.processor.js';
import { ChatTurnsRepository } from './chat/chat-turns.repository.js';
import { startBacklogReporter } from './metrics/backlog-reporter.js';
import { createBatchWorkers } from './summarize/summarize.worker.js';
import { createTitleProcessor } from './titles/titles.processor.js';
import { TitlesRepository } from './titles/titles.repository.js';

export type RunningWorker = { close(): Promise<void> };

/** Starts the queue workers of this process; used by main.ts and by the single-process launcher. */
export async function startWorker(config: AppConfig = loadConfig()): Promise<RunningWorker> {
  const logger = createLogger('worker', config.logLevel);
  await assertRedisReachable(config.redisUrl);
  // Each running chat makes a few short queries; a small pool per process serves many streams.
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 20 });
  const logLost = (err: Error, role: string) => logger.warn({ err, role }, 'redis connection lost; reconnecting');
  const redis = createRedis(config.redisUrl, 'commands', logLost);
  const blocking = createRedis(config.redisUrl, 'blocking', logLost);
  const subscriber = createRedis(config.redisUrl, 'subscriber', logLost);
  const streams = createRedis(config.redisUrl, 'streams', logLost);
  const bedrock = createBedrockClient(config);
  const catalog = new CatalogHolder(config.modelsFile, logger);
  const models = catalog.list;
  const governor = new QuotaGovernor(redis, { prefix: config.queuePrefix, ...config.quota });
  const laneQueues = { chat: producerQueue<ChatJobData>(chatQueueName, redis, config.queuePrefix) };
  const titlesQueue = producerQueue<TitleJobData>(titlesQueueName, redis, config.queuePrefix);

  const chatWorker = new Worker(
    chatQueueName,
    createChatProcessor({
      redis, streams, bedrock, governor, laneQueues, turns: new ChatTurnsRepository(database.db), models, logger,
      titles: config.chatTitles === 'model' ? titlesQueue : undefined, queuePrefix: config.queuePrefix,
    }),
    { connection: blocking, prefix: config.queuePrefix, concurrency: config.workerConcurrency, autorun: false, maxStalledCount: config.jobs.maxStalled },
  );
  chatWorker.on('error', (err) => logger.error({ err }, 'chat worker error'));
  chatWorker.on('failed', (job, err) => logger.warn({ jobId: job?.id, err: err.message }, 'chat job attempt failed'));
  const batch = createBatchWorkers({
    config,
    redis,
    blocking,
    subscriber,
    bedrock,
    database,
    models,
    logger,
    quota: { governor, laneQueues },
    chatQueue: laneQueues.chat,
  });
  // Titles are small batch-lane calls: a few at a time per process is plenty.
  const titleWorker = new Worker(
    titlesQueueName,
    createTitleProcessor({
      redis, queuePrefix: config.queuePrefix, bedrock, repository: new TitlesRepository(database.db), models, logger,
      quota: { governor, laneQueues },
    }),
    { connection: blocking, prefix: config.queuePrefix, concurrency: 4, autorun: false },
  );
  titleWorker.on('error', (err) => logger.error({ err }, 'titles worker error'));
  await listenForCancels(subscriber, config.queuePrefix, [chatWorker, batch.summarize]);
  await catalog.listen(subscriber, config.queuePrefix);
  void chatWorker.run();
  await chatWorker.waitUntilReady();
  await batch.run();
  void titleWorker.run();
  await titleWorker.waitUntilReady();
  const stopReporting = config.backlogMetricsIntervalMs
    ? startBacklogReporter({ queues: [laneQueues.chat], governor, models, intervalMs: config.backlogMetricsIntervalMs })
    : () => undefined;
  logger.info({ concurrency: config.workerConcurrency, bedrockMode: config.bedrockMode }, 'worker ready');

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        // Lets running answers finish (ECS gives stopTimeout); picks up nothing new meanwhile.
        stopReporting();
        catalog.stop();
        await Promise.all([chatWorker.close(), batch.close(), titleWorker.close()]);
        await Promise.all([...Object.values(laneQueues), titlesQueue].map((q) => q.close()));
        subscriber.disconnect();
        await redis.quit().catch(() => redis.disconnect());
        blocking.disconnect();
        await streams.quit().catch(() => streams.disconnect());
        bedrock.destroy();
        await database.close();
      })()),
  };
}
