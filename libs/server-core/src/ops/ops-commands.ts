/**
 * The commands of `npm run ops -- <command>` (worker/src/ops/ops-cli.ts runs them): the queue and
 * the workers from a terminal, through Redis only
 * (REDIS_URL, QUEUE_PREFIX as the processes use them).
 *
 *   status                 workers (heartbeats), API nodes and every queue's counts
 *   drain <worker>         that worker takes no new job and finishes the running ones (id or unique prefix)
 *   pause <queue>          no worker takes jobs from the queue (cluster-wide) until resume
 *   resume <queue>
 *   retry-failed <queue>   failed jobs go back to waiting (a job whose record already ended stays as it is)
 */
import { loadConfig } from '../config/config.js';
import { chatQueueName, controlChannel, type ControlMessage, producerQueue, summarizeQueueName, titlesQueueName, webhooksQueueName } from '../queues/queues.js';
import { createRedis, redisPublish } from '../redis.js';
import { opsKeys, readApiNodes, readWorkers } from './ops-state.js';

const queueNames = [chatQueueName, summarizeQueueName, webhooksQueueName, titlesQueueName];
const usage = `usage: npm run ops -- status | drain <worker> | pause <queue> | resume <queue> | retry-failed <queue>
queues: ${queueNames.join(', ')}`;
/** How long a drain request stays for a worker that is busy or reconnecting. */
const drainKeyTtlMs = 24 * 60 * 60 * 1000;

const ago = (ms: number) => (ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`);

function table(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return '  (none)';
  const keys = Object.keys(rows[0]!);
  const width = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k]).length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(width[i]!)).join('  ')}`.trimEnd();
  return [line(keys), ...rows.map((r) => line(keys.map((k) => String(r[k]))))].join('\n');
}

export async function runOps(argv: string[], out: (line: string) => void = console.log, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, arg] = argv;
  if (!command || command === 'help' || command === '--help') {
    out(usage);
    return command ? 0 : 2;
  }
  const config = loadConfig(env);
  const redis = createRedis(config, 'commands', () => undefined);
  const prefix = config.queuePrefix;
  const queue = (name: string | undefined) => {
    if (!name || !queueNames.includes(name)) throw new UsageError(`unknown queue "${name ?? ''}"\n${usage}`);
    return producerQueue(name, redis, prefix);
  };
  try {
    switch (command) {
      case 'status': {
        const now = Date.now();
        const [workers, apis] = await Promise.all([readWorkers(redis, prefix), readApiNodes(redis, prefix)]);
        out(`Workers (${workers.length})`);
        out(
          table(
            workers.map((w) => ({
              id: w.id,
              host: w.host,
              slots: `${w.slotsInUse}/${w.slots}`,
              streams: w.streams,
              up: ago(now - w.since),
              heartbeat: `${ago(now - w.lastHeartbeat)} ago`,
              state: w.draining ? 'draining' : 'running',
            })),
          ),
        );
        out(`API nodes (${apis.length})`);
        out(table(apis.map((a) => ({ id: a.id, host: a.host, sockets: a.sockets, 'watched jobs': a.watchedJobs, up: ago(now - a.since) }))));
        out('Queues');
        const rows = [];
        for (const name of queueNames) {
          const q = queue(name);
          const [c, paused] = await Promise.all([q.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed', 'completed'), q.isPaused()]);
          rows.push({
            queue: name,
            waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
            delayed: c.delayed ?? 0,
            active: c.active ?? 0,
            failed: c.failed ?? 0,
            completed: c.completed ?? 0,
            state: paused ? 'paused' : 'running',
          });
        }
        out(table(rows));
        return 0;
      }
      case 'drain': {
        if (!arg) throw new UsageError(usage);
        const workers = await readWorkers(redis, prefix);
        const matches = workers.filter((w) => w.id === arg || w.id.startsWith(arg));
        const exact = matches.find((w) => w.id === arg);
        if (!exact && matches.length !== 1) {
          throw new UsageError(matches.length ? `"${arg}" matches ${matches.length} workers: ${matches.map((w) => w.id).join(', ')}` : `no live worker "${arg}" (npm run ops -- status)`);
        }
        const id = (exact ?? matches[0]!).id;
        // The key reaches a worker that misses the message (it checks at every heartbeat).
        await redis.set(opsKeys(prefix).drain(id), '1', 'PX', drainKeyTtlMs);
        await redisPublish(redis, controlChannel(prefix), JSON.stringify({ type: 'drain', workerId: id } satisfies ControlMessage));
        out(`draining ${id}: it takes no new job and finishes the running ones (stop it once "slots" shows 0/…)`);
        return 0;
      }
      case 'pause':
        await queue(arg).pause();
        out(`paused ${arg}: workers take no job from it until \`npm run ops -- resume ${arg}\``);
        return 0;
      case 'resume':
        await queue(arg).resume();
        out(`resumed ${arg}`);
        return 0;
      case 'retry-failed': {
        const q = queue(arg);
        const failed = (await q.getJobCounts('failed')).failed ?? 0;
        await q.retryJobs({ state: 'failed' });
        out(`${failed} failed ${arg} job(s) moved back to waiting`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"\n${usage}`);
    }
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** A wrong command or argument (exit code 2). */
export class UsageError extends Error {}
