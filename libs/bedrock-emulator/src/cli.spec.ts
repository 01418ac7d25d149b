import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const pkgDir = join(import.meta.dirname, '..');

describe('cli', () => {
  it('loads quotas from a Switchboard model catalog, prints its URL and exits on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-cli-'));
    const catalog = join(dir, 'models.json');
    writeFileSync(
      catalog,
      JSON.stringify([
        {
          id: 'anthropic.claude-3-sonnet-20240229-v1:0',
          name: 'Claude 3 Sonnet',
          vision: true,
          documents: true,
          maxOutputTokens: 4096,
          contextWindow: 200000,
          quota: { requestsPerMinute: 60, tokensPerMinute: 200000 },
          price: { inputPer1k: 0.003, outputPer1k: 0.015 },
          default: true,
        },
      ]),
    );
    const { NODE_OPTIONS: _drop, ...env } = process.env;
    // tsx runs the TypeScript entry point, so the test needs no prior build.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--port', '0', '--tps', '1000', '--window-ms', '10000', '--models-file', catalog], {
      cwd: pkgDir,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      const url = /(http:\/\/\S+)/.exec(line.toString())![1]!;
      const config = await (await fetch(`${url}/_emulator/config`)).json();
      expect(config).toMatchObject({
        tps: 1000,
        windowMs: 10000,
        models: { 'anthropic.claude-3-sonnet-20240229-v1:0': { maxOutputTokens: 4096, quota: { requestsPerMinute: 60, tokensPerMinute: 200000 } } },
      });
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});
