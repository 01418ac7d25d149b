import { ConfigError } from '@switchboard/server-core';
import { startApi } from './bootstrap.js';

try {
  const api = await startApi();
  console.log(`Switchboard API listening at ${api.url}`);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
