import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

/** A connection to one Redis, or to a Redis Cluster (ElastiCache cluster mode); same commands. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: `AppConfig` carries both. With `redisCluster`, `redisUrl` lists seed nodes. */
export type RedisTarget = { redisUrl: string; redisCluster: boolean };

export type RedisRole = 'commands' | 'blocking' | 'subscriber' | 'streams';

/**
 * Every Redis connection of a process is made here, one per role (commands, blocking worker,
 * subscriber, streams). BullMQ needs maxRetriesPerRequest: null on connections it blocks on.
 * `streams` carries the answers' appends, each batch one EVALSHA written at once: no
 * auto-pipelining, which keeps one pipeline in flight per connection, so under load every append
 * waited for the previous batch's round trip (issue 19: most of the per-token tail).
 * `onLost` hears once per outage (ioredis retries on its own and would report every attempt).
 *
 * With `redisCluster` every role is an ioredis `Cluster` on the seed nodes; a subscriber uses
 * sharded pub/sub (one connection per shard, SSUBSCRIBE) when the servers have it (Redis ≥ 7), see
 * `pubSubMode`. A plain URL (or a string) is one Redis, as before.
 */
export function createRedis(
  target: RedisTarget | string,
  role: RedisRole,
  onLost: (err: Error, role: RedisRole) => void,
  extra: RedisOptions = {},
): RedisClient {
  const { redisUrl, redisCluster } = typeof target === 'string' ? { redisUrl: target, redisCluster: false } : target;
  const options: RedisOptions = {
    connectionName: `switchboard:${role}`,
    maxRetriesPerRequest: role === 'commands' || role === 'streams' ? 3 : null,
    enableReadyCheck: true,
    ...extra,
  };
  const redis: RedisClient = redisCluster
    ? createCluster(
        redisUrl,
        options,
        role === 'subscriber'
          ? // A failover moves slots without any command of a subscriber being redirected: look
            // often, so sharded subscriptions move to the new primary within about a second.
            { shardedSubscribers: true, slotsRefreshInterval: 1000 }
          : {},
      )
    : new Redis(redisUrl, options);
  let lost = false;
  redis.on('error', (err: Error) => {
    if (lost) return;
    lost = true;
    onLost(err, role);
  });
  redis.on('ready', () => (lost = false));
  return redis;
}

/** Seed nodes and per-node options (credentials, TLS) from `redis[s]://[user:pass@]host:port,…`. */
export function clusterSeeds(urls: string): { nodes: { host: string; port: number }[]; redisOptions: RedisOptions } {
  const parsed = urls.split(',').map((u) => new URL(u.trim()));
  const first = parsed[0]!;
  const redisOptions: RedisOptions = {};
  if (first.username) redisOptions.username = decodeURIComponent(first.username);
  if (first.password) redisOptions.password = decodeURIComponent(first.password);
  if (first.protocol === 'rediss:') redisOptions.tls = {};
  return { nodes: parsed.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })), redisOptions };
}

function createCluster(urls: string, nodeOptions: RedisOptions, clusterOptions: ClusterOptions): Cluster {
  const { nodes, redisOptions } = clusterSeeds(urls);
  const { maxRetriesPerRequest, enableReadyCheck, ...perNode } = nodeOptions;
  return new Cluster(nodes, {
    ...clusterOptions,
    enableReadyCheck,
    // Ride through a failover: a command to a shard whose primary is gone is retried every 200 ms
    // (each retry counts as a redirection) until a replica took over, up to about 20 s, instead of
    // failing the answer being streamed.
    maxRedirections: 100,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    // ElastiCache's TLS certificates name the configuration endpoint, not the nodes' IPs.
    ...(redisOptions.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    redisOptions: { ...perNode, ...redisOptions, maxRetriesPerRequest },
  });
}

export const isCluster = (redis: RedisClient): redis is Cluster => (redis as Cluster).isCluster === true;

/**
 * How this connection publishes and subscribes: `sharded` (SPUBLISH/SSUBSCRIBE: a channel lives on
 * the shard of its hash slot, so pub/sub traffic spreads over the shards like keys do) on a cluster
 * of Redis ≥ 7, else `classic` (one Redis, or a cluster that broadcasts every message to every node).
 * Asked once per connection.
 */
export function pubSubMode(redis: RedisClient): Promise<PubSubMode> {
  let mode = modes.get(redis);
  if (!mode) {
    mode = isCluster(redis)
      ? redis.info('server').then(
          (info) => (Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0) >= 7 ? 'sharded' : 'classic'),
          () => (modes.delete(redis), 'classic' as const),
        )
      : Promise.resolve('classic');
    modes.set(redis, mode);
  }
  return mode;
}
export type PubSubMode = 'classic' | 'sharded';
const modes = new WeakMap<RedisClient, Promise<PubSubMode>>();

/** Publishes on a channel the way subscribers listen (see `pubSubMode`). */
export async function redisPublish(redis: RedisClient, channel: string, message: string): Promise<number> {
  return Number((await pubSubMode(redis)) === 'sharded' ? await redis.spublish(channel, message) : await redis.publish(channel, message));
}

/** Subscribes to channels (of one hash slot when sharded: call once per channel otherwise). */
export async function redisSubscribe(subscriber: RedisClient, ...channels: string[]): Promise<void> {
  if (channels.length === 0) return;
  if ((await pubSubMode(subscriber)) === 'sharded') await Promise.all(channels.map((c) => subscriber.ssubscribe(c)));
  else await subscriber.subscribe(...channels);
}

/** Leaves these channels; none leaves none (a bare UNSUBSCRIBE would leave every channel). */
export async function redisUnsubscribe(subscriber: RedisClient, ...channels: string[]): Promise<void> {
  if (channels.length === 0) return;
  if ((await pubSubMode(subscriber)) === 'sharded') await Promise.all(channels.map((c) => subscriber.sunsubscribe(c)));
  else await subscriber.unsubscribe(...channels);
}

/**
 * Calls back when subscriptions were re-established after a failover or reconnect: messages
 * published meanwhile are gone, so a listener that must not miss any re-reads what it follows.
 */
export function onResubscribed(subscriber: RedisClient, listener: () => void): void {
  if (isCluster(subscriber)) subscriber.on('subscribersReady', listener);
  subscriber.on('ready', listener);
}

/** Hears messages of both kinds of subscription. */
export function onRedisMessage(subscriber: RedisClient, listener: (channel: string, message: string) => void): void {
  subscriber.on('message', listener);
  subscriber.on('smessage', listener);
}

/** Resolves when Redis (any of the seed nodes) answers PING, or rejects with a clear message. */
export async function assertRedisReachable(urls: string, timeoutMs = 3000): Promise<void> {
  let lastError: Error | undefined;
  for (const url of urls.split(',').map((u) => u.trim())) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch (err) {
      lastError = err as Error;
    } finally {
      probe.disconnect();
    }
  }
  throw new Error(`Redis is not reachable at ${redactUrl(urls)} (${lastError?.message}). Start Redis or set REDIS_URL.`);
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/,]*)@/g, '//***@');
}
