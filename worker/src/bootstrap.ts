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
import { HandOver, stopJobsOnLostLock } from './lifecycle/hand-over.js';
import { jobLockOptions } from './lifecycle/job-locks.js';
import { createTaskProtection } from './lifecycle/task-protection.js';
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
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 20, migrate: config.migrateOnBoot });
  const logLost = (err: Error, role: string) => logger.warn({ err, role }, 'redis connection lost; reconnecting');
  const redis = createRedis(config, 'commands', logLost);
  const blocking = createRedis(config, 'blocking', logLost);
  const subscriber = createRedis(config, 'subscriber', logLost);
  const streams = createRedis(config, 'streams', logLost);
  const bedrock = createBedrockClient(config);
  const catalog = new CatalogHolder(config.modelsFile, logger, config.modelsJson);
  const models = catalog.list;
  const governor = new QuotaGovernor(redis, { prefix: config.queuePrefix, ...config.quota });
  const laneQueues = { chat: producerQueue<ChatJobData>(chatQueueName, redis, config.queuePrefix) };
  const titlesQueue = producerQueue<TitleJobData>(titlesQueueName, redis, config.queuePrefix);
  const protection = createTaskProtection(config.worker.ecsAgentUri, logger);
  const processChat = createChatProcessor({
    redis, streams, bedrock, governor, laneQueues, turns: new ChatTurnsRepository(database.db), models, logger,
    titles: config.chatTitles === 'model' ? titlesQueue : undefined, queuePrefix: config.queuePrefix,
  });

  const chatWorker = new Worker(
    chatQueueName,
    // Three parameters: BullMQ hands the processor an AbortSignal only when it declares one.
    (job, token, signal) => protection.track(() => processChat(job, token, signal)),
    {
      connection: blocking,
      prefix: config.queuePrefix,
      concurrency: config.workerConcurrency,
      autorun: false,
      maxStalledCount: config.jobs.maxStalled,
      ...jobLockOptions(config),
    },
  );
  chatWorker.on('error', (err) => logger.error({ err }, 'chat worker error'));
  stopJobsOnLostLock(chatWorker);
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
    protection,
  });
  // Titles are small batch-lane calls: a few at a time per process is plenty.
  const titleWorker = new Worker(
    titlesQueueName,
    createTitleProcessor({
      redis, queuePrefix: config.queuePrefix, bedrock, repository: new TitlesRepository(database.db), models, logger,
      quota: { governor, laneQueues },
    }),
    { connection: blocking, prefix: config.queuePrefix, concurrency: 4, autorun: false, ...jobLockOptions(config) },
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
    ? startBacklogReporter({ queues: [laneQueues.chat, ...batch.queues, titlesQueue], governor, models, intervalMs: config.backlogMetricsIntervalMs })
    : () => undefined;
  logger.info({ concurrency: config.workerConcurrency, bedrockMode: config.bedrockMode }, 'worker ready');

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        // Takes nothing new; running answers may finish until the drain deadline (below ECS's
        // stopTimeout), then go back to the queue and continue on another worker from the text
        // already delivered. Batch jobs still running a little later are left to the stalled check.
        stopReporting();
        catalog.stop();
        const closed = Promise.all([chatWorker.close(), batch.close(), titleWorker.close()]);
        let deadline: NodeJS.Timeout | undefined;
        const drained = await Promise.race([
          closed.then(() => true),
          new Promise<false>((resolve) => (deadline = setTimeout(() => resolve(false), config.worker.drainMs))),
        ]);
        clearTimeout(deadline);
        if (!drained) {
          logger.warn({ inFlight: protection.inFlight }, 'drain deadline passed; handing running jobs to another worker');
          chatWorker.cancelAllJobs(new HandOver('drain') as unknown as string);
          const handedOver = await Promise.race([closed.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5000).unref())]);
          // What still runs (long batch calls) is not waited for: its locks lapse and the stalled check requeues it.
          if (!handedOver) logger.warn('jobs still running after the hand-over; leaving them to the stalled check');
        }
        await protection.stop();
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
