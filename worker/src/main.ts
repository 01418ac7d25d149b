import { ConfigError } from '@switchboard/server-core';
import { startWorker } from './bootstrap.js';

try {
  const worker = await startWorker();
  console.log('Switchboard worker ready');
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      worker.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
