import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputBurndownOf, quotaTokensOf, tokenizerRatioOf } from '@switchboard/contracts';
import { builtInCatalog, loadCatalog } from './catalog.js';
import { clusterSeeds } from '../redis.js';
import { ConfigError, loadConfig } from './config.js';

const noAws = { HOME: '/nonexistent' };

describe('loadConfig', () => {
  it('applies the documented defaults (docs/architecture.md#configuration)', () => {
    const config = loadConfig(noAws);
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      redisUrl: 'redis://127.0.0.1:6379',
      databaseUrl: undefined,
      bedrockMode: 'emulator',
      auth: { mode: 'local', adminGroup: 'admin' },
      queuePrefix: '{sb}',
    });
  });

  it('puts DATABASE_PASSWORD and REDIS_PASSWORD into the URLs, percent-encoded', () => {
    const config = loadConfig({
      ...noAws,
      DATABASE_URL: 'postgres://switchboard_app@db.internal:5433/switchboard?sslmode=verify-full',
      DATABASE_PASSWORD: 'p@ss/word',
      REDIS_URL: 'rediss://cache.internal:6380',
      REDIS_PASSWORD: 'tok3n',
    });
    expect(config.databaseUrl).toBe('postgres://switchboard_app:p%40ss%2Fword@db.internal:5433/switchboard?sslmode=verify-full');
    expect(config.redisUrl).toBe('rediss://:tok3n@cache.internal:6380');
  });

  it('takes comma-separated seed nodes with REDIS_CLUSTER=true, each with the password, and refuses them without', () => {
    expect(loadConfig(noAws).redisCluster).toBe(false);
    const config = loadConfig({ ...noAws, REDIS_CLUSTER: 'true', REDIS_URL: 'rediss://a.internal:6380, rediss://b.internal:6380', REDIS_PASSWORD: 'tok3n' });
    expect(config).toMatchObject({ redisCluster: true, redisUrl: 'rediss://:tok3n@a.internal:6380,rediss://:tok3n@b.internal:6380' });
    expect(clusterSeeds(config.redisUrl)).toEqual({
      nodes: [{ host: 'a.internal', port: 6380 }, { host: 'b.internal', port: 6380 }],
      redisOptions: { password: 'tok3n', tls: {} },
    });
    expect(() => loadConfig({ ...noAws, REDIS_URL: 'redis://a:6379,redis://b:6379' })).toThrow(/REDIS_CLUSTER=true/);
    expect(() => loadConfig({ ...noAws, REDIS_CLUSTER: 'true', REDIS_URL: 'redis://a:6379,b:6379' })).toThrow(/REDIS_URL/);
  });

  it('has recovery defaults in seconds and refuses a lock renewal that is not shorter than the lock', () => {
    expect(loadConfig(noAws).worker).toMatchObject({ lockDurationMs: 4000, lockRenewMs: 1000, stalledIntervalMs: 2500, drainMs: 90_000 });
    expect(loadConfig(noAws).migrateOnBoot).toBe(true);
    expect(loadConfig(noAws).baselineJit).toBe(true);
    expect(loadConfig({ ...noAws, BASELINE_JIT: 'false' }).baselineJit).toBe(false);
    expect(() => loadConfig({ ...noAws, BASELINE_JIT: 'yes' })).toThrow(/BASELINE_JIT/);
    expect(() => loadConfig({ ...noAws, WORKER_LOCK_RENEW_MS: '4000' })).toThrow(/WORKER_LOCK_RENEW_MS/);
  });

  it('picks aws mode when credentials are found', () => {
    expect(loadConfig({ ...noAws, AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' }).bedrockMode).toBe('aws');
    expect(loadConfig({ ...noAws, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/creds' }).bedrockMode).toBe('aws');
  });

  it.each([
    [{ PORT: 'abc' }, /PORT/],
    [{ REDIS_URL: 'http://x' }, /REDIS_URL/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ BEDROCK_MODE: 'magic' }, /BEDROCK_MODE/],
    [{ AUTH_MODE: 'oidc' }, /AUTH_ISSUER/],
    [{ WORKER_CONCURRENCY: '0' }, /WORKER_CONCURRENCY/],
    [{ QUEUE_PREFIX: 'sb' }, /QUEUE_PREFIX/],
  ])('stops with a message naming the bad value: %o', (env, message) => {
    expect(() => loadConfig({ ...noAws, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...noAws, ...env })).toThrow(message);
  });
});

describe('loadCatalog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'catalog-'));

  it('has a built-in catalog with one default model', () => {
    expect(loadCatalog(undefined)).toBe(builtInCatalog);
    expect(builtInCatalog.filter((m) => m.default)).toHaveLength(1);
  });

  it('reads MODELS_FILE and names what is wrong with it', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify([{ ...builtInCatalog[0], id: 'x' }]));
    expect(loadCatalog(good).map((m) => m.id)).toEqual(['x']);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ id: 'x' }]));
    expect(() => loadCatalog(bad)).toThrow(/not a valid model catalog: 0\.name/);
    expect(() => loadCatalog(join(dir, 'missing.json'))).toThrow(/MODELS_FILE/);
  });

  it('counts output tokens at Bedrock\'s burndown rate: 5 for Claude 3.7, 4.x and 5 unless the entry says otherwise', () => {
    for (const m of builtInCatalog) expect([m.name, outputBurndownOf(m)]).toEqual([m.name, /Claude (3\.7|(Sonnet|Haiku|Opus) [45])/.test(m.name) ? 5 : 1]);
    const entry = (id: string, outputBurndown?: number) => ({ id, quota: { requestsPerMinute: 1, tokensPerMinute: 1, ...(outputBurndown ? { outputBurndown } : {}) } });
    expect(outputBurndownOf(entry('anthropic.claude-3-7-sonnet-20250219-v1:0'))).toBe(5);
    expect(outputBurndownOf(entry('anthropic.claude-3-5-haiku-20241022-v1:0'))).toBe(1);
    expect(outputBurndownOf(entry('vendor.model-v1:0', 3))).toBe(3);
    // Cache writes count once, cache reads not at all.
    const usage = { inputTokens: 100, outputTokens: 10, cacheReadTokens: 5000, cacheWriteTokens: 200 };
    expect(quotaTokensOf(entry('global.anthropic.claude-haiku-4-5-20251001-v1:0'), usage)).toBe(100 + 200 + 5 * 10);
    const bad = join(dir, 'burndown.json');
    writeFileSync(bad, JSON.stringify([{ ...builtInCatalog[0], quota: { ...builtInCatalog[0]!.quota, outputBurndown: 0 } }]));
    expect(() => loadCatalog(bad)).toThrow(/0\.quota\.outputBurndown/);
  });

  it('counts text in each model\'s tokens: Opus 4.7 and later make up to 1.35 times as many, unless the entry says otherwise', () => {
    for (const m of builtInCatalog) expect([m.name, tokenizerRatioOf(m)]).toEqual([m.name, /Opus 4\.7|Claude \w+ 5/.test(m.name) ? 1.35 : 1]);
    expect(tokenizerRatioOf({ id: 'global.anthropic.claude-sonnet-5-v1:0' })).toBe(1.35);
    expect(tokenizerRatioOf({ id: 'us.anthropic.claude-opus-4-6-v1' })).toBe(1);
    expect(tokenizerRatioOf({ id: 'vendor.model-v1:0', tokenizerRatio: 1.2 })).toBe(1.2);
    const bad = join(dir, 'tokenizer.json');
    writeFileSync(bad, JSON.stringify([{ ...builtInCatalog[0], tokenizerRatio: 0.5 }]));
    expect(() => loadCatalog(bad)).toThrow(/0\.tokenizerRatio/);
  });

  it('knows the effort a model uses when a request sets none: high, medium on Opus 5.5; a catalog default must be one of its levels', () => {
    const byName = (name: string) => builtInCatalog.find((m) => m.name === name)!.rules.effort;
    expect(byName('Claude Opus 5.5')).toMatchObject({ default: 'medium' });
    expect(byName('Claude Sonnet 5.5')).toMatchObject({ default: 'high' });
    expect(byName('Claude Opus 4.5')).toMatchObject({ levels: ['low', 'medium', 'high'], default: 'high' });
    // Inferred from the id when an entry has no rules.
    const inferred = join(dir, 'inferred.json');
    const { rules: _rules, ...bare } = builtInCatalog[0]!;
    writeFileSync(inferred, JSON.stringify([{ ...bare, id: 'global.anthropic.claude-opus-5-5', default: true }]));
    expect(loadCatalog(inferred)[0]!.rules.effort).toMatchObject({ default: 'medium' });
    const bad = join(dir, 'effort.json');
    writeFileSync(bad, JSON.stringify([{ ...builtInCatalog[0], rules: { effort: { levels: ['low', 'medium'], default: 'max' } } }]));
    expect(() => loadCatalog(bad)).toThrow(/effort\.default must be one of effort\.levels/);
  });
});
