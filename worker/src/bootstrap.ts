import { Worker } from 'bullmq';
import {
  type AppConfig,
  applyBaselineJit,
  assertRedisReachable,
  type ChatJobData,
  ChatQueues,
  chatQueueName,
  createLogger,
  createRedis,
  jobStreamAppender,
  loadConfig,
  openDatabase,
  opsRecorder,
  producerQueue,
  QuotaGovernor,
  SpendRepository,
  type SummarizeJobData,
  summarizeQueueName,
  type TitleJobData,
  titlesQueueName,
  type WebhookJobData,
  webhooksQueueName,
} from '@switchboard/server-core';
import { createBedrockClient, preconnectBedrock } from './bedrock/bedrock-client.js';
import { warmUpBedrockSdk } from './bedrock/sdk-warm-up.js';
import { CatalogHolder } from './catalog/catalog-holder.js';
import { listenForCancels } from './cancel/cancel-listener.js';
import { createChatProcessor, endStreamOfFailedChat } from './chat/chat.processor.js';
import { HandOver, stopJobsOnLostLock } from './lifecycle/hand-over.js';
import { jobLockOptions } from './lifecycle/job-locks.js';
import { withScrubbedErrors } from './lifecycle/scrubbed-errors.js';
import { createTaskProtection } from './lifecycle/task-protection.js';
import { ChatTurnsRepository } from './chat/chat-turns.repository.js';
import { startBacklogReporter } from './metrics/backlog-reporter.js';
import { serveMetrics } from './metrics/worker-metrics.js';
import { startPresence } from './ops/worker-presence.js';
import type { LaneQueues } from './quota/admission.js';
import { startReconciler } from './reconciler/reconciler.js';
import { SummarizeJobsRepository } from './summarize/summarize-jobs.repository.js';
import { createSummarizeWorker } from './summarize/summarize.worker.js';
import { createTitleProcessor } from './titles/titles.processor.js';
import { TitlesRepository } from './titles/titles.repository.js';
import { WebhookDeliveriesRepository } from './webhooks/webhook-deliveries.repository.js';
import { createWebhooksWorker } from './webhooks/webhooks.worker.js';

export type RunningWorker = {
  close(): Promise<void>;
  /** This worker's id in heartbeats (Operations, `npm run ops -- drain <id>`). */
  id: string;
  /** The Prometheus endpoint when WORKER_METRICS_PORT is set. */
  metricsUrl?: string;
};

/**
 * The worker's composition root: builds the queues, repositories and the workers of this process
 * (chat, summarize, titles, webhooks) side by side with the reconciler and the one cancel
 * listener, then runs them. Used by main.ts and by the single-process launcher.
 */
export async function startWorker(config: AppConfig = loadConfig()): Promise<RunningWorker> {
  applyBaselineJit(config);
  const logger = createLogger('worker', config.logLevel, config.logFormat);
  await assertRedisReachable(config.redisUrl);
  // Each running chat makes a few short queries; a small pool per process serves many streams.
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolMax ?? 20, migrate: config.migrateOnBoot, warm: config.dbPoolWarm, namedStatements: config.dbNamedStatements });
  const logLost = (err: Error, role: string) => logger.warn({ err, role }, 'redis connection lost; reconnecting');
  const redis = createRedis(config, 'commands', logLost);
  const blocking = createRedis(config, 'blocking', logLost);
  const subscriber = createRedis(config, 'subscriber', logLost);
  const streams = createRedis(config, 'streams', logLost);
  jobStreamAppender(streams, config.streamAppendLingerMs);
  const bedrock = createBedrockClient(config);
  const catalog = new CatalogHolder(config.modelsFile, logger, config.modelsJson);
  const models = catalog.list;
  const governor = new QuotaGovernor(redis, { prefix: config.queuePrefix, ...config.quota });
  // One chat queue per model on a Redis Cluster (each model's lane on a slot of its own), else one.
  const chatQueues = new ChatQueues(redis, config.queuePrefix, config.redisCluster);
  const summarizeQueue = producerQueue<SummarizeJobData>(summarizeQueueName, redis, config.queuePrefix);
  const webhooksQueue = producerQueue<WebhookJobData>(webhooksQueueName, redis, config.queuePrefix);
  const titlesQueue = producerQueue<TitleJobData>(titlesQueueName, redis, config.queuePrefix);
  // The governor wakes parked jobs of each lane on these queues when quota frees early.
  const laneQueues: LaneQueues = { chat: chatQueues, batch: summarizeQueue };
  const quota = { governor, laneQueues };
  const chatTurns = new ChatTurnsRepository(database.db);
  const summarizeJobs = new SummarizeJobsRepository(database.db);
  const deliveries = new WebhookDeliveriesRepository(database.db, redis, config.queuePrefix);
  const protection = createTaskProtection(config.worker.ecsAgentUri, logger);
  const spend = new SpendRepository(database.db);
  const processChat = createChatProcessor({
    redis, streams, bedrock, governor, laneQueues, turns: chatTurns, models, logger,
    titles: config.chatTitles === 'model' ? titlesQueue : undefined, queuePrefix: config.queuePrefix, spend,
    stamps: config.streamStamps,
  });

  // A chat worker per chat queue: one, or on a cluster one per model (models added by a catalog
  // reload get theirs then).
  const chatWorkers = new Map<string, Worker<ChatJobData>>();
  const chatWorkerFor = (prefix: string) => {
    const chatWorker = new Worker<ChatJobData>(
      chatQueueName,
      withScrubbedErrors((job, token, signal) => protection.track(() => processChat(job, token, signal))),
      {
        connection: blocking,
        prefix,
        concurrency: config.workerConcurrency,
        autorun: false,
        maxStalledCount: config.jobs.maxStalled,
        ...jobLockOptions(config),
      },
    );
    chatWorker.on('error', (err) => logger.error({ err }, 'chat worker error'));
    stopJobsOnLostLock(chatWorker);
    chatWorker.on('failed', (job, err) => {
      logger.warn({ jobId: job?.id, err: err.message }, 'chat job attempt failed');
      if (job) endStreamOfFailedChat(streams, job, err).catch((e: unknown) => logger.warn({ jobId: job.id, err: e }, 'could not end the failed chat\'s stream'));
    });
    return chatWorker;
  };
  let closingWorkers = false;
  const newChatWorkers = () => {
    const added: Worker<ChatJobData>[] = [];
    for (const model of models()) {
      const prefix = chatQueues.prefixFor(model.id);
      if (chatWorkers.has(prefix) || closingWorkers) continue;
      const worker = chatWorkerFor(prefix);
      chatWorkers.set(prefix, worker);
      added.push(worker);
    }
    return added;
  };
  newChatWorkers();
  const summarize = createSummarizeWorker({
    config, redis, blocking, bedrock, repository: summarizeJobs, models, logger, queue: summarizeQueue, webhooks: webhooksQueue, quota, protection, spend,
  });
  const webhookWorker = createWebhooksWorker({ config, blocking, repository: deliveries, logger });
  // Titles are small batch-lane calls: a few at a time per process is plenty.
  const titleWorker = new Worker(
    titlesQueueName,
    withScrubbedErrors(
      createTitleProcessor({
        redis, queuePrefix: config.queuePrefix, bedrock, repository: new TitlesRepository(database.db), models, logger,
        quota, spend,
      }),
    ),
    { connection: blocking, prefix: config.queuePrefix, concurrency: 4, autorun: false, ...jobLockOptions(config) },
  );
  titleWorker.on('error', (err) => logger.error({ err }, 'titles worker error'));
  const reconciler = startReconciler({
    config,
    redis,
    repositories: { summarizeJobs, chatTurns, deliveries },
    summarize: summarizeQueue,
    chat: chatQueues,
    webhooks: webhooksQueue,
    logger,
  });
  // One cancel listener for the process: whichever worker holds the job stops it.
  const chatCancels = { cancel: (jobId: string) => chatWorkers.forEach((w) => w.cancelJob(jobId, 'cancelled by the user')) };
  await listenForCancels(subscriber, config.queuePrefix, [chatCancels, summarize]);
  await catalog.listen(subscriber, config.queuePrefix);
  // Connections to Bedrock are open before the first job (and the Postgres pool warm, see openDatabase).
  const opened = await preconnectBedrock(bedrock, config).catch((err: Error) => {
    logger.warn({ err: err.message }, 'could not preconnect to Bedrock');
    return undefined;
  });
  if (opened && opened.length < config.bedrockPoolWarm) logger.warn({ opened: opened.length, asked: config.bedrockPoolWarm }, 'opened fewer Bedrock connections than asked');
  // The SDK's code compiled before the first burst (no request leaves the process).
  await warmUpBedrockSdk(config.aws.region).catch((err: Error) => logger.warn({ err: err.message }, 'could not warm up the Bedrock SDK'));
  const workers = () => [...chatWorkers.values(), summarize.worker, webhookWorker, titleWorker];
  for (const worker of workers()) void worker.run();
  await Promise.all(workers().map((worker) => worker.waitUntilReady()));
  catalog.onReload(() => {
    for (const worker of newChatWorkers()) void worker.run();
  });
  const queues = () => [...chatQueues.of(models().map((m) => m.id)), summarizeQueue, webhooksQueue, titlesQueue];
  const stopReporting = config.backlogMetricsIntervalMs
    ? startBacklogReporter({ queues, governor, models, intervalMs: config.backlogMetricsIntervalMs })
    : () => undefined;
  const presence = await startPresence({
    redis,
    subscriber,
    prefix: config.queuePrefix,
    heartbeatMs: config.ops.heartbeatMs,
    slots: config.workerConcurrency,
    // Read when a drain is asked: chat workers added by a catalog reload are paused too.
    get workers() {
      return workers() as Worker[];
    },
    inFlight: () => protection.inFlight,
    logger,
  });
  const metricsServer = config.workerMetrics.port
    ? await serveMetrics({ port: config.workerMetrics.port, host: config.workerMetrics.host, token: config.metricsToken })
    : undefined;
  logger.info({ workerId: presence.id, concurrency: config.workerConcurrency, bedrockMode: config.bedrockMode, metrics: metricsServer?.url }, 'worker ready');

  let closing: Promise<void> | undefined;
  return {
    id: presence.id,
    metricsUrl: metricsServer?.url,
    close: () =>
      (closing ??= (async () => {
        // Takes nothing new; running answers may finish until the drain deadline (below ECS's
        // stopTimeout), then go back to the queue and continue on another worker from the text
        // already delivered. Batch jobs still running a little later are left to the stalled check.
        stopReporting();
        await presence.stop();
        await metricsServer?.close();
        reconciler.stop();
        catalog.stop();
        closingWorkers = true;
        const closed = Promise.all(workers().map((worker) => worker.close()));
        let deadline: NodeJS.Timeout | undefined;
        const drained = await Promise.race([
          closed.then(() => true),
          new Promise<false>((resolve) => (deadline = setTimeout(() => resolve(false), config.worker.drainMs))),
        ]);
        clearTimeout(deadline);
        if (!drained) {
          logger.warn({ inFlight: protection.inFlight }, 'drain deadline passed; handing running jobs to another worker');
          for (const chatWorker of chatWorkers.values()) chatWorker.cancelAllJobs(new HandOver('drain') as unknown as string);
          const handedOver = await Promise.race([closed.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5000).unref())]);
          // What still runs (long batch calls) is not waited for: its locks lapse and the stalled check requeues it.
          if (!handedOver) logger.warn('jobs still running after the hand-over; leaving them to the stalled check');
        }
        await protection.stop();
        await Promise.all([chatQueues.close(), ...[summarizeQueue, webhooksQueue, titlesQueue].map((q) => q.close())]);
        subscriber.disconnect();
        await opsRecorder(redis).flush(); // the Operations page's last second of counts
        await redis.quit().catch(() => redis.disconnect());
        blocking.disconnect();
        await streams.quit().catch(() => streams.disconnect());
        bedrock.destroy();
        await database.close();
      })()),
  };
}
