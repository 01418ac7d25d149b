import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { RedisClient as Redis } from '@switchboard/server-core';
import type { Socket } from 'socket.io';
import { chatServerEvents, type ConversationUpdatedEvent } from '@switchboard/contracts';
import {
  type AppConfig,
  jobChannel,
  type JobChannelMessage,
  jobChannelPattern,
  onRedisMessage,
  onResubscribed,
  ownerOfUserChannel,
  readJobStream,
  redisPublish,
  redisSubscribe,
  redisUnsubscribe,
  type StreamEntry,
  userChannel,
  type UserChannelMessage,
} from '@switchboard/server-core';
import { APP_CONFIG } from '../config/tokens.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { REDIS, REDIS_SUBSCRIBER } from '../redis/redis.module.js';

/** How long a job channel nobody watches stays subscribed, to be left together with others. */
const leaveAfterMs = 100;

/** One socket following one job: `cursor` is the last seq it was sent. */
type Watcher = { socket: Socket; owner: string; cursor: number; catchingUp: boolean; maxSeen: number; finished: boolean };


/**
 * Relays job streams from Redis to this node's sockets. The node subscribes to the channel of a
 * user only while it holds that user's sockets, and to a job's channel only while one of its
 * sockets watches the job. Each socket gets every seq exactly once and in order: a gap (a socket
 * that joined late, a resume, a missed message) is filled from the job's stream before going on.
 * Only entries the stream itself lost (a Redis primary killed before replicating them) are skipped.
 */
@Injectable()
export class JobRelayService implements OnModuleInit {
  private readonly logger = new Logger(JobRelayService.name);
  private readonly socketsByOwner = new Map<string, Set<Socket>>();
  /** The user channels this node follows, per owner with sockets here: `true` once subscribed, else the subscribe on its way. */
  private readonly userSubscriptions = new Map<string, Promise<void> | true>();
  private readonly watchersByJob = new Map<string, Map<string, Watcher>>();
  /** The jobs each socket watches: a disconnect visits its own jobs, not every job on the node. */
  private readonly jobsBySocket = new Map<string, Set<string>>();
  /** Tells this node's own job announcements apart from other nodes' on the user channel. */
  private readonly nodeId = randomUUID();
  /**
   * Job channels nobody here watches any more, unsubscribed together a moment later: one command
   * for many answers instead of one each (issue 19). Messages on them meanwhile find no watcher.
   */
  private readonly leaving = new Set<string>();
  private leaveTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit() {
    onRedisMessage(this.subscriber, (channel: string, payload: string) => this.onMessage(channel, payload));
    // Subscriptions back after a failover or reconnect: what was published meanwhile is in the streams.
    onResubscribed(this.subscriber, () => this.catchUpAll());
    this.metrics.setSocketSource(() => this.load());
  }

  /** Sockets held and jobs relayed by this node (metrics, Operations). */
  load(): { sockets: number; watchedJobs: number } {
    let sockets = 0;
    for (const set of this.socketsByOwner.values()) sockets += set.size;
    return { sockets, watchedJobs: this.watchersByJob.size };
  }

  private catchUpAll() {
    for (const [jobId, watchers] of this.watchersByJob) for (const w of watchers.values()) void this.catchUp(jobId, w);
  }

  /**
   * Called during the socket's handshake: resolves once this node follows the user's channel, so
   * that the socket hears of jobs other nodes start from the moment it is connected. Waits at most
   * REDIS_ENQUEUE_TIMEOUT_MS: with Redis away the socket still connects (it can read history), and
   * ioredis subscribes when Redis is back.
   */
  async addSocket(socket: Socket, owner: string) {
    let sockets = this.socketsByOwner.get(owner);
    if (!sockets) {
      sockets = new Set();
      this.socketsByOwner.set(owner, sockets);
    }
    sockets.add(socket);
    let subscribed = this.userSubscriptions.get(owner);
    if (subscribed === true) return;
    if (!subscribed) {
      const subscribing = redisSubscribe(this.subscriber, userChannel(this.config.queuePrefix, owner)).then(
        () => {
          // Still this node's subscription (not left and followed again meanwhile).
          if (this.userSubscriptions.get(owner) === subscribing) this.userSubscriptions.set(owner, true);
        },
        (err: unknown) => this.logger.warn({ err }, 'could not follow the user channel'),
      );
      this.userSubscriptions.set(owner, (subscribed = subscribing));
    }
    await Promise.race([subscribed, delay(this.config.redisEnqueueTimeoutMs, undefined, { ref: false })]);
  }

  async removeSocket(socket: Socket, owner: string) {
    for (const jobId of this.jobsBySocket.get(socket.id) ?? []) {
      const watchers = this.watchersByJob.get(jobId);
      if (watchers?.delete(socket.id) && watchers.size === 0) this.unwatch(jobId);
    }
    this.jobsBySocket.delete(socket.id);
    const sockets = this.socketsByOwner.get(owner);
    if (!sockets) return;
    sockets.delete(socket);
    if (sockets.size === 0) {
      this.socketsByOwner.delete(owner);
      this.userSubscriptions.delete(owner);
      await redisUnsubscribe(this.subscriber, userChannel(this.config.queuePrefix, owner));
    }
  }

  /**
   * This node's sockets of the user follow a job that is not enqueued yet, so they need no
   * catch-up read (once subscribed, the channel shows every entry). Runs while Postgres stores the
   * turn; `forget` undoes it when the turn is not stored.
   */
  async watchBeforeEnqueue(owner: string, jobId: string) {
    await this.watchForAllSockets(owner, jobId, true);
  }

  /** Undoes watchBeforeEnqueue for a job that will not run (its turn was not stored or not enqueued). */
  forget(jobId: string) {
    for (const w of [...(this.watchersByJob.get(jobId)?.values() ?? [])]) this.finish(jobId, w);
  }

  /**
   * Tells every other node holding this user's sockets to follow a new job and, in the same message,
   * the turn's `conversation:updated` for every socket of the user but `except` (the sender's: it
   * has the ack); this node's sockets are told here (and watch since watchBeforeEnqueue), and it
   * ignores its own notice. May go out together with the enqueue: other nodes read what they missed
   * from the stream. Best effort for the update: a lost notice only means another tab refreshes later.
   */
  async announce(owner: string, jobId: string, update: ConversationUpdatedEvent, except?: string) {
    this.emitUpdate(owner, update, except);
    const notice: UserChannelMessage = { jobId, node: this.nodeId, update, ...(except ? { except } : {}) };
    await redisPublish(this.redis, userChannel(this.config.queuePrefix, owner), JSON.stringify(notice));
  }

  private emitUpdate(owner: string, update: unknown, except?: string) {
    for (const socket of this.socketsByOwner.get(owner) ?? []) if (socket.id !== except) socket.emit(chatServerEvents.conversationUpdated, update);
  }

  /** One socket asks for everything after `afterSeq` (chat:resume). */
  async resume(socket: Socket, owner: string, jobId: string, afterSeq: number) {
    const watcher = await this.watch(socket, owner, jobId, afterSeq);
    watcher.cursor = afterSeq;
    watcher.finished = false;
    await this.catchUp(jobId, watcher);
    return watcher;
  }

  /** Sends an event straight to the sockets of a user on this node (e.g. `queued` at send time). */
  emitToOwner(owner: string, event: string, payload: unknown) {
    for (const socket of this.socketsByOwner.get(owner) ?? []) socket.emit(event, payload);
  }

  private async watchForAllSockets(owner: string, jobId: string, beforeEnqueue = false) {
    const sockets = [...(this.socketsByOwner.get(owner) ?? [])];
    await Promise.all(sockets.map((s) => this.watch(s, owner, jobId, 0, beforeEnqueue)));
  }

  /** `beforeEnqueue`: the job cannot have written yet (see watchBeforeEnqueue). */
  private async watch(socket: Socket, owner: string, jobId: string, cursor: number, beforeEnqueue = false): Promise<Watcher> {
    let watchers = this.watchersByJob.get(jobId);
    if (!watchers) {
      watchers = new Map();
      this.watchersByJob.set(jobId, watchers);
      // Still subscribed when it was only about to leave.
      if (!this.leaving.delete(jobChannel(jobId))) await redisSubscribe(this.subscriber, jobChannel(jobId));
    }
    let watcher = watchers.get(socket.id);
    if (!watcher) {
      watcher = { socket, owner, cursor, catchingUp: false, maxSeen: 0, finished: false };
      watchers.set(socket.id, watcher);
      let jobs = this.jobsBySocket.get(socket.id);
      if (!jobs) this.jobsBySocket.set(socket.id, (jobs = new Set()));
      jobs.add(jobId);
      // The job may have written before we subscribed: start from the stream. Not needed when the
      // watch starts before the job is enqueued (once subscribed, the channel shows every entry;
      // a gap still triggers a catch-up in deliver).
      if (!beforeEnqueue) void this.catchUp(jobId, watcher);
    }
    return watcher;
  }

  private unwatch(jobId: string) {
    this.watchersByJob.delete(jobId);
    this.leaving.add(jobChannel(jobId));
    this.leaveTimer ??= setTimeout(() => {
      this.leaveTimer = undefined;
      const channels = [...this.leaving];
      this.leaving.clear();
      // All of them may be watched again meanwhile: with none left this leaves none (see redisUnsubscribe).
      redisUnsubscribe(this.subscriber, ...channels).catch((err: unknown) => this.logger.warn({ err }, 'unsubscribe failed'));
    }, leaveAfterMs).unref();
  }

  private onMessage(channel: string, payload: string) {
    const jobMatch = jobChannelPattern.exec(channel);
    if (jobMatch) return this.onJobMessage(jobMatch[1]!, payload);
    const owner = ownerOfUserChannel(this.config.queuePrefix, channel);
    if (owner === undefined) return;
    let notice: UserChannelMessage;
    try {
      notice = JSON.parse(payload) as UserChannelMessage;
    } catch {
      return; // not ours
    }
    if ('event' in notice) {
      if (notice.event === chatServerEvents.conversationUpdated) this.emitUpdate(owner, notice.payload, notice.except);
      return;
    }
    if (typeof notice.jobId === 'string') {
      if (notice.node === this.nodeId) return; // announced here: already followed and told
      if (notice.update) this.emitUpdate(owner, notice.update, notice.except);
      void this.watchForAllSockets(owner, notice.jobId).catch((err) => this.logger.warn({ err }, 'watch failed'));
    }
  }

  private onJobMessage(jobId: string, payload: string) {
    const watchers = this.watchersByJob.get(jobId);
    if (!watchers) return;
    const message = JSON.parse(payload) as JobChannelMessage;
    // A sampled delta carries its append time: one observation per node, not per socket.
    if (message.kind === 'delta' && message.at) this.metrics.deltaLatency.observe(Math.max(0, Date.now() - message.at) / 1000);
    if (message.kind === 'status') {
      for (const w of watchers.values()) if (!w.finished) w.socket.emit(chatServerEvents.status, { jobId, ...message.event });
      return;
    }
    for (const w of watchers.values()) this.deliver(jobId, w, message);
  }

  private deliver(jobId: string, w: Watcher, entry: StreamEntry) {
    if (w.finished) return;
    if (w.catchingUp) {
      w.maxSeen = Math.max(w.maxSeen, entry.seq);
      return;
    }
    if (entry.seq <= w.cursor) return;
    if (entry.seq === w.cursor + 1) {
      this.emit(jobId, w, entry);
      return;
    }
    w.maxSeen = Math.max(w.maxSeen, entry.seq);
    void this.catchUp(jobId, w);
  }

  /** Reads the stream after the watcher's cursor until it has what the channel showed. */
  private async catchUp(jobId: string, w: Watcher) {
    if (w.catchingUp) return;
    w.catchingUp = true;
    try {
      for (;;) {
        const entries = await readJobStream(this.redis, jobId, w.cursor);
        for (const entry of entries) {
          if (w.finished) break;
          if (entry.seq > w.cursor + 1) {
            // A hole in the stream itself never fills (ids only grow, and XADD precedes PUBLISH):
            // entries lost with a Redis node that failed before replicating them. Go on after it
            // (reading again would spin); the final event still carries the whole answer.
            this.logger.warn({ jobId, missing: [w.cursor + 1, entry.seq - 1] }, 'job stream lost entries; going on after the gap');
          }
          this.emit(jobId, w, entry);
        }
        // XADD precedes PUBLISH, so whatever the channel showed is in the stream by now.
        if (entries.length === 0 || w.finished || w.maxSeen <= w.cursor) break;
      }
    } catch (err) {
      this.logger.warn({ err, jobId }, 'catch-up from the job stream failed');
    } finally {
      w.catchingUp = false;
    }
  }

  private emit(jobId: string, w: Watcher, entry: StreamEntry) {
    w.cursor = entry.seq;
    switch (entry.kind) {
      case 'delta':
        w.socket.emit(chatServerEvents.delta, { jobId, seq: entry.seq, text: entry.text, ...(entry.reasoning ? { reasoning: entry.reasoning } : {}) });
        return;
      case 'done':
        w.socket.emit(chatServerEvents.done, { jobId, ...entry.event });
        break;
      case 'error':
        w.socket.emit(chatServerEvents.error, { jobId, ...entry.event });
        break;
    }
    this.finish(jobId, w);
  }

  private finish(jobId: string, w: Watcher) {
    w.finished = true;
    const watchers = this.watchersByJob.get(jobId);
    if (watchers?.get(w.socket.id) === w) {
      watchers.delete(w.socket.id);
      if (watchers.size === 0) this.unwatch(jobId);
      const jobs = this.jobsBySocket.get(w.socket.id);
      if (jobs?.delete(jobId) && jobs.size === 0) this.jobsBySocket.delete(w.socket.id);
    }
  }
}
