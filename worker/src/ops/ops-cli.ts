#!/usr/bin/env node
/** `npm run ops -- status | drain <worker> | pause <queue> | resume <queue> | retry-failed <queue>` (see runOps). */
import { ConfigError, runOps, UsageError } from '@switchboard/server-core';

runOps(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof UsageError || err instanceof ConfigError ? err.message : err);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
