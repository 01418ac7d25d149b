import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppConfig, loadConfig } from '@switchboard/server-core';
import { createTestDatabase, testQueuePrefix, testRedisUrl } from '@switchboard/testing';
import { type RunningApi, startApi } from '../../src/bootstrap.js';

export type TestApi = RunningApi & { config: AppConfig; token(username: string, extra?: object): Promise<string>; stop(): Promise<void> };

type Env = Record<string, string>;

/**
 * The whole API in this process on a free port, real Redis and a fresh PostgreSQL database.
 * `env` may depend on the database's URL (e.g. to reach it through a proxy).
 */
export async function startTestApi(env: Env | ((databaseUrl: string) => Env) = {}): Promise<TestApi> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-api-'));
  const config = loadConfig({
    PORT: '0',
    REDIS_URL: testRedisUrl,
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    QUEUE_PREFIX: testQueuePrefix(),
    BEDROCK_MODE: 'emulator',
    LOG_LEVEL: 'silent',
    WEB_DIST_DIR: join(dataDir, 'no-portal'),
    ...(typeof env === 'function' ? env(database.url) : env),
  });
  const api = await startApi(config);
  return {
    ...api,
    config,
    token: async (username, extra = {}) => {
      const res = await fetch(`${api.url}/v1/auth/dev-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, ...extra }),
      });
      return ((await res.json()) as { access_token: string }).access_token;
    },
    stop: async () => {
      await api.close();
      await database.drop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
