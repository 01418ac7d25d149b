import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type ClusterNodeInfo = { port: number; process: ChildProcess; dir: string };

/** A throwaway Redis Cluster of real `redis-server` processes (3 primaries + 3 replicas by default). */
export type TestRedisCluster = {
  /** Comma-separated seed nodes, as `REDIS_URL` takes them with `REDIS_CLUSTER=true`. */
  url: string;
  nodes: ClusterNodeInfo[];
  /** Runs one redis-cli command on one node and returns its output. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The node serving a key's slot now (its primary). */
  primaryForKey(key: string): Promise<number>;
  /** The primaries by port (as `CLUSTER NODES` says now). */
  primaries(): Promise<{ port: number; id: string; slots: string }[]>;
  /** Empties one shard (its primary; the replica follows), as if that shard lost its data. */
  flushShard(primaryPort: number): Promise<void>;
  /** Kills a shard's primary and waits until its replica took over and the cluster is ok again. */
  failOverByKill(primaryPort: number): Promise<{ newPrimary: number }>;
  /** A manual, lossless failover: `CLUSTER FAILOVER` on the shard's replica. */
  failOver(primaryPort: number): Promise<{ newPrimary: number }>;
  stop(): Promise<void>;
};

export type RedisClusterOptions = {
  primaries?: number;
  replicasPerPrimary?: number;
  /** Low, so a killed primary is replaced within seconds. */
  nodeTimeoutMs?: number;
};

/**
 * Starts `primaries * (1 + replicasPerPrimary)` `redis-server` processes with
 * `--cluster-enabled yes` on free ports, each in its own temporary directory without persistence,
 * joins them with `redis-cli --cluster create` and waits for `cluster_state:ok` on every node.
 * `stop()` kills them and removes the directories. Needs `redis-server` and `redis-cli` on PATH.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<TestRedisCluster> {
  const primaries = options.primaries ?? 3;
  const replicas = options.replicasPerPrimary ?? 1;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  const count = primaries * (1 + replicas);
  const nodes: ClusterNodeInfo[] = [];
  const cli = async (port: number, ...args: string[]) => (await run('redis-cli', ['-p', String(port), ...args])).stdout.trim();
  // Never outlive the test process, even when it dies without calling stop().
  const killAll = () => nodes.forEach((n) => n.process.kill('SIGKILL'));
  process.once('exit', killAll);
  const stop = async () => {
    process.off('exit', killAll);
    await Promise.all(nodes.map((n) => stopProcess(n.process)));
    await Promise.all(nodes.map((n) => rm(n.dir, { recursive: true, force: true })));
  };
  try {
    const ports = await freeClusterPorts(count);
    for (const port of ports) {
      const dir = await mkdtemp(join(tmpdir(), `sb-cluster-${port}-`));
      const child = spawn(
        'redis-server',
        [
          '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
          '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-announce-ip', '127.0.0.1',
          '--cluster-node-timeout', String(nodeTimeoutMs),
          '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction',
          // Replicas sync at once (the default waits 5 s for more replicas to share the transfer).
          '--repl-diskless-sync-delay', '0',
          // A replica with stale data may still take over: the test cluster prefers availability.
          '--cluster-replica-validity-factor', '0',
        ],
        { stdio: 'ignore' },
      );
      nodes.push({ port, process: child, dir });
    }
    await Promise.all(nodes.map((n) => waitFor(async () => (await cli(n.port, 'PING').catch(() => '')) === 'PONG', 10_000, `redis-server on ${n.port}`)));
    if (primaries >= 3) {
      await run('redis-cli', [
        '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes',
      ]);
    } else {
      // redis-cli creates clusters of 3 primaries or more; fewer (a 1-shard baseline) are built by hand.
      if (replicas > 0) throw new Error('replicas need at least 3 primaries');
      const per = Math.ceil(16384 / primaries);
      await Promise.all(ports.map((p, i) => cli(p, 'CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(Math.min(16383, (i + 1) * per - 1)))));
      for (const p of ports.slice(1)) await cli(ports[0]!, 'CLUSTER', 'MEET', '127.0.0.1', String(p));
    }
    await waitForClusterOk(cli, ports);
    // A failover before the replicas finished their first sync would lose everything written.
    await waitFor(
      async () => {
        const infos = await Promise.all(ports.map((p) => cli(p, 'INFO', 'replication').catch(() => '')));
        return infos.every((i) => i.includes('role:master') || i.includes('master_link_status:up'));
      },
      30_000,
      'replicas in sync',
    );
  } catch (err) {
    await stop();
    throw err;
  }

  const primariesNow = async () => {
    const out = await firstAnswer(nodes, (n) => cli(n.port, 'CLUSTER', 'NODES'));
    return out
      .split('\n')
      .map((line) => line.split(' '))
      .filter((f) => f[2]?.includes('master') && !f[2].includes('fail'))
      .map((f) => ({ id: f[0]!, port: Number(f[1]!.split(':')[1]!.split('@')[0]), slots: f.slice(8).join(' ') }))
      .filter((p) => p.slots.length > 0);
  };
  const replicaOf = async (primaryPort: number) => {
    const primary = (await primariesNow()).find((p) => p.port === primaryPort);
    if (!primary) throw new Error(`${primaryPort} is not a primary`);
    const out = await cli(primaryPort, 'CLUSTER', 'NODES');
    const line = out.split('\n').find((l) => l.split(' ')[3] === primary.id && l.includes('slave'));
    if (!line) throw new Error(`${primaryPort} has no replica`);
    return Number(line.split(' ')[1]!.split(':')[1]!.split('@')[0]);
  };
  const alive = () => nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null).map((n) => n.port);

  return {
    url: nodes.slice(0, Math.min(3, nodes.length)).map((n) => `redis://127.0.0.1:${n.port}`).join(','),
    nodes,
    cli,
    primaries: primariesNow,
    async primaryForKey(key) {
      const slot = Number(await firstAnswer(nodes, (n) => cli(n.port, 'CLUSTER', 'KEYSLOT', key)));
      for (const p of await primariesNow()) {
        for (const range of p.slots.split(' ')) {
          const [from, to] = range.split('-').map(Number);
          if (slot >= from! && slot <= (to ?? from!)) return p.port;
        }
      }
      throw new Error(`no primary for slot ${slot}`);
    },
    async flushShard(primaryPort) {
      await cli(primaryPort, 'FLUSHALL');
    },
    async failOver(primaryPort) {
      const replica = await replicaOf(primaryPort);
      await cli(replica, 'CLUSTER', 'FAILOVER');
      await waitFor(async () => (await primariesNow()).some((p) => p.port === replica), 15_000, `replica ${replica} promoted`);
      await waitForClusterOk(cli, alive());
      return { newPrimary: replica };
    },
    async failOverByKill(primaryPort) {
      const replica = await replicaOf(primaryPort);
      const node = nodes.find((n) => n.port === primaryPort)!;
      await stopProcess(node.process, 'SIGKILL');
      await waitFor(async () => (await cli(replica, 'ROLE').catch(() => '')).startsWith('master'), 30_000, `replica ${replica} promoted`);
      await waitForClusterOk(cli, alive());
      return { newPrimary: replica };
    },
    stop,
  };
}

/** One throwaway `redis-server` (no cluster) on a free port, e.g. as a benchmark's baseline. */
export async function startRedisServer(): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const [port] = await freeClusterPorts(1);
  const dir = await mkdtemp(join(tmpdir(), `sb-redis-${port}-`));
  const child = spawn('redis-server', ['--port', String(port!), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  const stop = async () => {
    await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await run('redis-cli', ['-p', String(port), 'PING']).catch(() => ({ stdout: '' }))).stdout.trim() === 'PONG', 10_000, `redis-server on ${port}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `redis://127.0.0.1:${port}`, port: port!, stop };
}

async function waitForClusterOk(cli: (port: number, ...args: string[]) => Promise<string>, ports: number[]) {
  await waitFor(
    async () => {
      const infos = await Promise.all(ports.map((p) => cli(p, 'CLUSTER', 'INFO').catch(() => '')));
      return infos.every((i) => i.includes('cluster_state:ok'));
    },
    30_000,
    'cluster_state:ok',
  );
}

async function firstAnswer<T>(nodes: ClusterNodeInfo[], ask: (n: ClusterNodeInfo) => Promise<T>): Promise<T> {
  let last: unknown;
  for (const n of nodes) {
    if (n.process.exitCode !== null || n.process.signalCode !== null) continue;
    try {
      return await ask(n);
    } catch (err) {
      last = err;
    }
  }
  throw last ?? new Error('no cluster node answered');
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/**
 * `count` free ports whose cluster bus ports (port + 10000) are free too. Ports come from the OS
 * (port 0), so parallel suites never collide; only ports below 55536 can have a bus port.
 */
async function freeClusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort(0);
    if (port + 10000 > 65535 || ports.includes(port)) continue;
    if ((await freePort(port + 10000).catch(() => -1)) === -1) continue;
    ports.push(port);
  }
  return ports;
}

function freePort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : port));
    });
  });
}
