#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { EmulatorModel } from './config.js';
import { startEmulator } from './index.js';

const USAGE = `Usage: bedrock-emulator [--port 4010] [--host 127.0.0.1] [--tps 200] [--ttfb 50]
                        [--window-ms 60000] [--models-file catalog.json] [--strict] [--lenient]
Env fallbacks: BEDROCK_EMULATOR_PORT, BEDROCK_EMULATOR_HOST, MODELS_FILE.`;

function fail(message: string): never {
  process.stderr.write(`bedrock-emulator: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function numberFlag(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) fail(`--${name} must be a number >= 0, got "${raw}"`);
  return value;
}

function readModels(file: string): EmulatorModel[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    fail(`cannot read --models-file ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) fail(`--models-file ${file} must hold a JSON array of catalog entries`);
  return parsed as EmulatorModel[];
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        tps: { type: 'string' },
        ttfb: { type: 'string' },
        'window-ms': { type: 'string' },
        'models-file': { type: 'string' },
        strict: { type: 'boolean' },
        lenient: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
})();

if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const modelsFile = values['models-file'] ?? process.env['MODELS_FILE'];
try {
  const emulator = await startEmulator({
    port: numberFlag('port', values.port ?? process.env['BEDROCK_EMULATOR_PORT']) ?? 4010,
    host: values.host ?? process.env['BEDROCK_EMULATOR_HOST'] ?? '127.0.0.1',
    tps: numberFlag('tps', values.tps),
    ttfbMs: numberFlag('ttfb', values.ttfb),
    windowMs: numberFlag('window-ms', values['window-ms']),
    strict: values.strict,
    lenient: values.lenient,
    models: modelsFile ? readModels(modelsFile) : undefined,
  });
  process.stdout.write(`Bedrock emulator listening on ${emulator.url} (admin: ${emulator.url}/_emulator/stats)\n`);
  const shutdown = (): void => {
    emulator.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} catch (err) {
  fail((err as Error).message);
}
