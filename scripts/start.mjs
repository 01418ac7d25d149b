#!/usr/bin/env node
// `npm start`: everything in one process for a laptop or a demo — API + worker + portal +
// embedded PGlite, and the Bedrock emulator when no AWS credentials are found. Needs only Redis.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false' } });
  if (result.status !== 0) {
    console.error(`\n${command} ${args.join(' ')} failed (exit ${result.status}).`);
    process.exit(result.status ?? 1);
  }
}

if (process.env.SWITCHBOARD_SKIP_INSTALL !== '1') {
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(join(root, 'package-lock.json')).mtimeMs) {
    console.log('Installing dependencies (npm ci)…');
    run('npm', ['ci', '--no-audit', '--no-fund']);
  }
  console.log('Building (cached when nothing changed)…');
  run('npx', ['nx', 'run-many', '-t', 'build', '--projects=@switchboard/api,@switchboard/worker,@switchboard/web,@switchboard/bedrock-emulator', '--output-style=stream']);
}

const { loadConfig, loadCatalog, assertRedisReachable, ConfigError, redactUrl } = await import('@switchboard/server-core');

let config;
try {
  config = loadConfig();
  await assertRedisReachable(config.redisUrl);
} catch (err) {
  console.error(`\n${err instanceof ConfigError ? err.message : err.message}\n`);
  process.exit(1);
}

let emulator;
if (config.bedrockMode === 'emulator' && !config.aws.bedrockEndpoint) {
  const { startEmulator } = await import('@switchboard/bedrock-emulator');
  emulator = await startEmulator({ port: 0, models: loadCatalog(config.modelsFile) });
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = emulator.url;
  config = loadConfig();
  console.warn(`\n*** No AWS credentials found: answers come from the local Bedrock emulator at ${emulator.url} ***\n`);
}

const { startWorker } = await import('../worker/dist/bootstrap.js');
const { startApi } = await import('../api/dist/bootstrap.js');
const worker = await startWorker(config);
const api = await startApi(config);
console.log(`\nSwitchboard ready at ${api.url}  (Redis ${redactUrl(config.redisUrl)}, data in ${config.dataDir})\n`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await api.close().catch(() => undefined);
    await worker.close().catch(() => undefined);
    await emulator?.close().catch(() => undefined);
    process.exit(0);
  });
}
