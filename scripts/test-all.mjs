// `npm test` after the lint: every project's tests, one project at a time, then the recap of what
// failed or passed only on a retry (scripts/jest-recap-reporter.mjs) as the log's last lines.
// Arguments go on to nx (e.g. `npm test -- --projects=@switchboard/web`).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { recapFile } from './jest-recap-reporter.mjs';

rmSync(recapFile, { force: true });
const run = spawnSync('npx', ['nx', 'run-many', '-t', 'test', '--parallel=1', '--output-style=stream', ...process.argv.slice(2)], { stdio: 'inherit' });
if (existsSync(recapFile)) process.stdout.write(`\nTest recap:\n${readFileSync(recapFile, 'utf8')}`);
process.exit(run.status ?? 1);
