import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '@switchboard/server-core';
import { createTestDatabase, testQueuePrefix, testRedisUrl } from '@switchboard/testing';
import { startTestApi, type TestApi } from '../support/test-api.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const apiMain = join(root, 'api', 'dist', 'main.js');
const noAws = { HOME: '/nonexistent' };

/** Runs the built API process with only `env`; resolves with its output once `until` matches or it exits. */
function runApi(env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [apiMain], { env: { PATH: process.env.PATH ?? '', ...noAws, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const w of [...waiters]) {
      const m = w.re.exec(output);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    output: () => output,
    exited,
    waitFor: (re: RegExp) => new Promise<RegExpExecArray>((resolve) => (re.exec(output) ? resolve(re.exec(output)!) : waiters.push({ re, resolve }))),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('security 1: no open door by default', () => {
  it('refuses to start in production without AUTH_MODE, naming it (the API and worker share this parse)', async () => {
    expect(() => loadConfig({ ...noAws, NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...noAws, NODE_ENV: 'production' })).toThrow(/AUTH_MODE/);
    expect(loadConfig({ ...noAws, NODE_ENV: 'production', AUTH_MODE: 'local' }).auth.mode).toBe('local');
    expect(loadConfig(noAws).auth.mode).toBe('local');

    const api = runApi({ NODE_ENV: 'production', REDIS_URL: testRedisUrl });
    expect(await api.exited).toBe(1);
    expect(api.output()).toMatch(/AUTH_MODE is required/);
  });

  it.each(['0.0.0.0', '::', '10.0.0.5', 'example.com'])('refuses local mode on the non-loopback HOST %s unless AUTH_LOCAL_INSECURE=true', (host) => {
    expect(() => loadConfig({ ...noAws, HOST: host })).toThrow(/AUTH_LOCAL_INSECURE/);
    expect(() => loadConfig({ ...noAws, HOST: host, AUTH_LOCAL_INSECURE: 'false' })).toThrow(ConfigError);
    expect(loadConfig({ ...noAws, HOST: host, AUTH_LOCAL_INSECURE: 'true' }).auth.localInsecure).toBe(true);
  });

  it.each(['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost'])('runs local mode on the loopback HOST %s', (host) => {
    expect(loadConfig({ ...noAws, HOST: host }).auth.mode).toBe('local');
  });

  it('warns loudly at boot and on every dev-token when local mode is exposed on purpose', async () => {
    const database = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-insecure-'));
    const api = runApi({
      HOST: '0.0.0.0',
      AUTH_LOCAL_INSECURE: 'true',
      PORT: '0',
      REDIS_URL: testRedisUrl,
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      QUEUE_PREFIX: testQueuePrefix(),
      BEDROCK_MODE: 'emulator',
      WEB_DIST_DIR: join(dataDir, 'no-portal'),
    });
    try {
      const [, port] = await api.waitFor(/listening at http:\/\/0\.0\.0\.0:(\d+)/);
      expect(api.output()).toMatch(/INSECURE: AUTH_MODE=local on 0\.0\.0\.0/);
      for (const username of ['a', 'b']) {
        await request(`http://127.0.0.1:${port}`).post('/v1/auth/dev-token').send({ username }).expect(200);
      }
      await api.waitFor(/INSECURE: a dev-token was issued[\s\S]*INSECURE: a dev-token was issued/);
    } finally {
      await api.stop();
      await database.drop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  describe('dev-token', () => {
    let api: TestApi;
    beforeAll(async () => {
      api = await startTestApi({ AUTH_LOCAL_ADMINS: 'root, ops-lead' });
    });
    afterAll(() => api?.stop());

    it('ignores requested groups: admins are the names in AUTH_LOCAL_ADMINS', async () => {
      const mallory = await api.token('mallory', { groups: ['admin'] });
      const me = await request(api.url).get('/v1/me').set('authorization', `Bearer ${mallory}`).expect(200);
      expect(me.body.groups).toEqual([]);
      const reload = await request(api.url).post('/v1/admin/catalog/reload').set('authorization', `Bearer ${mallory}`).expect(403);
      expect(reload.body.error.code).toBe('forbidden');

      for (const name of ['root', 'ops-lead']) {
        const admin = await api.token(name);
        const adminMe = await request(api.url).get('/v1/me').set('authorization', `Bearer ${admin}`).expect(200);
        expect(adminMe.body.groups).toEqual(['admin']);
      }
    });
  });

  it('docker-compose publishes the API on 127.0.0.1 only', () => {
    const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { ports?: string[] }>;
    };
    const published = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    expect(published.length).toBeGreaterThan(0);
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:/);
  });
});
