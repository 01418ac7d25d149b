import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseParams, profilePrefix, rawParamsFrom } from '../lib/params.js';
import { CATALOG, CERT_ARN } from './helpers.js';

describe('deployment parameters', () => {
  it('fills sensible defaults from a region and a catalog', () => {
    const p = parseParams({ region: 'eu-west-1', models: CATALOG });
    expect(p.prefix).toBe('Switchboard');
    expect(p.worker).toMatchObject({ minTasks: 1, maxTasks: 6, concurrency: 64, spot: false, arm64: false });
    expect(p.worker.backlogPerTask).toBeUndefined();
    expect(p.api).toMatchObject({ minTasks: 2, cpu: 512 });
    expect(p.auth.mfa).toBe('required');
    expect(p.allowedCidrs).toEqual(['0.0.0.0/0']);
  });

  it('names every bad value', () => {
    expect(() => parseParams({ region: 'Europe', models: [] })).toThrow(/region: an AWS region[\s\S]*models/);
    expect(() => parseParams({ region: 'eu-west-1', models: CATALOG, worker: { minTasks: 5, maxTasks: 2 } })).toThrow(
      /worker.minTasks must not exceed worker.maxTasks/,
    );
    expect(() => parseParams({ region: 'eu-west-1', models: CATALOG, worker: { minTasks: 0 } })).toThrow(/worker.minTasks/);
    expect(() => parseParams({ region: 'eu-west-1', models: CATALOG, api: { cpu: 300 } })).toThrow(/api.cpu/);
  });

  it('requires a certificate and a domain together, in the deployment region', () => {
    expect(() => parseParams({ region: 'eu-west-1', models: CATALOG, domainName: 'chat.example.com' })).toThrow(/go together/);
    expect(() => parseParams({ region: 'us-east-1', models: CATALOG, domainName: 'chat.example.com', certificateArn: CERT_ARN })).toThrow(
      /must be in us-east-1/,
    );
    expect(parseParams({ region: 'eu-west-1', models: CATALOG, domainName: 'chat.example.com', certificateArn: CERT_ARN }).certificateArn).toBe(
      CERT_ARN,
    );
  });

  it('rejects an inference profile whose regions are unknown, and a bad catalog', () => {
    const models = [{ ...CATALOG[1]!, id: 'xx.anthropic.claude-3-haiku-20240307-v1:0' }];
    expect(() => parseParams({ region: 'eu-west-1', models })).toThrow(/inferenceProfileRegions.xx/);
    expect(() => parseParams({ region: 'eu-west-1', models: [CATALOG[0], CATALOG[0]] })).toThrow(/unique/);
  });

  it("refuses an inference profile whose geography does not serve the deploy region", () => {
    const profile = (id: string) => [{ ...CATALOG[1]!, id }];
    expect(() => parseParams({ region: 'eu-west-1', models: profile('us.anthropic.claude-sonnet-4-5-20250929-v1:0') })).toThrow(
      /models\.0\.id: us\.anthropic\.claude-sonnet-4-5-20250929-v1:0: the 'us\.' inference profile does not serve eu-west-1/,
    );
    expect(() => parseParams({ region: 'us-east-1', models: profile('eu.anthropic.claude-sonnet-4-5-20250929-v1:0') })).toThrow(/does not serve us-east-1/);
    expect(() => parseParams({ region: 'eu-west-1', models: profile('apac.anthropic.claude-sonnet-4-20250514-v1:0') })).toThrow(/'apac\.' inference profile/);
    expect(() => parseParams({ region: 'us-gov-west-1', models: profile('global.anthropic.claude-sonnet-4-5-20250929-v1:0') })).toThrow(
      /global inference profiles are not offered in us-gov-west-1/,
    );
    expect(parseParams({ region: 'eu-west-1', models: profile('eu.anthropic.claude-sonnet-4-5-20250929-v1:0') }).models).toHaveLength(1);
    expect(parseParams({ region: 'ap-northeast-1', models: profile('jp.anthropic.claude-sonnet-4-5-20250929-v1:0') }).models).toHaveLength(1);
    expect(parseParams({ region: 'eu-west-1', models: profile('global.anthropic.claude-sonnet-4-5-20250929-v1:0') }).models).toHaveLength(1);
    // Overridable when AWS adds a region to a profile.
    expect(
      parseParams({ region: 'eu-west-2', models: profile('eu.anthropic.claude-sonnet-4-5-20250929-v1:0'), inferenceProfileRegions: { eu: ['eu-west-2'] } }).models,
    ).toHaveLength(1);
  });

  it('ships a catalog of current models with their rules, deployable in the default and the example region', () => {
    const baseDir = join(dirname(fileURLToPath(import.meta.url)), '..');
    for (const region of ['us-east-1', 'eu-west-1', 'ap-northeast-1']) {
      const p = parseParams(rawParamsFrom({ context: {}, env: { AWS_REGION: region }, baseDir }));
      // Sonnet 4.6: Anthropic retired Sonnet 4.5 on its own API on 2026-11-30 (Bedrock keeps its own dates).
      expect(p.models.find((m) => m.default)?.id).toMatch(/claude-sonnet-4-6/);
      expect(p.models.find((m) => m.default)?.rules).toMatchObject({ prefill: false, effort: { levels: ['low', 'medium', 'high', 'max'] } });
      expect(p.models.some((m) => m.id.includes('claude-3-haiku'))).toBe(true);
      expect(p.models.find((m) => m.id.includes('sonnet-4-5'))?.rules).toMatchObject({ exclusiveSampling: true, thinking: { minBudget: 1024 } });
    }
  });

  it('tells profile ids from model ids', () => {
    expect(profilePrefix('us.anthropic.claude-3-5-sonnet-20241022-v2:0')).toBe('us');
    expect(profilePrefix('global.anthropic.claude-sonnet-4-20250514-v1:0')).toBe('global');
    expect(profilePrefix('anthropic.claude-3-haiku-20240307-v1:0')).toBeUndefined();
    expect(profilePrefix('arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc')).toBeUndefined();
  });

  it('accepts the shipped example config with the shipped catalog', () => {
    const baseDir = join(dirname(fileURLToPath(import.meta.url)), '..');
    const p = parseParams(rawParamsFrom({ context: { config: 'config/example.json' }, env: {}, baseDir }));
    expect(p).toMatchObject({ region: 'eu-west-1', domainName: 'chat.example.com', worker: { maxTasks: 6 } });
    expect(p.models.length).toBeGreaterThan(0);
  });

  it('reads a config file, the catalog file and -c overrides (strings from the CLI)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-params-'));
    writeFileSync(join(dir, 'models.json'), JSON.stringify(CATALOG));
    writeFileSync(join(dir, 'prod.json'), JSON.stringify({ region: 'eu-west-1', worker: { maxTasks: 4 } }));
    const raw = rawParamsFrom({
      context: { config: 'prod.json', modelsFile: 'models.json', 'worker.maxTasks': '12', 'auth.plus': 'true', allowedCidrs: '10.0.0.0/8,192.168.0.0/16' },
      env: {},
      baseDir: dir,
    });
    const p = parseParams(raw);
    expect(p.worker.maxTasks).toBe(12);
    expect(p.auth.plus).toBe(true);
    expect(p.allowedCidrs).toEqual(['10.0.0.0/8', '192.168.0.0/16']);
    expect(p.models).toHaveLength(2);
  });
});
