#!/usr/bin/env node
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { createSwitchboardApp } from '../lib/app.js';
import { parseParams, rawParamsFrom } from '../lib/params.js';

const app = new App();
const raw = rawParamsFrom({
  context: app.node.getAllContext() as Record<string, unknown>,
  env: process.env,
  baseDir: resolve(dirname(fileURLToPath(import.meta.url)), '..'),
});

try {
  createSwitchboardApp(parseParams(raw), app);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
app.synth();
