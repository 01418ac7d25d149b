// A jest reporter that appends one line per failed test, and per test that passed only on a retry,
// to test-results/recap.txt. `npm test` prints that file after every project has run: CI keeps only
// the tail of a long log, and jest's own failure report is thousands of lines above it by then.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const recapFile = join(root, 'test-results', 'recap.txt');

export default class RecapReporter {
  onRunComplete(_contexts, results) {
    const lines = [];
    for (const file of results.testResults) {
      const where = relative(root, file.testFilePath);
      if (file.testExecError) lines.push(`FAILED  ${where}: ${firstLines(file.testExecError.message)}`);
      for (const test of file.testResults) {
        if (test.status === 'failed') lines.push(`FAILED  ${where} › ${test.fullName}: ${firstLines(test.failureMessages[0])}`);
        else if (test.status === 'passed' && test.invocations > 1) {
          lines.push(`RETRIED ${where} › ${test.fullName} (passed on attempt ${test.invocations}): ${firstLines(test.retryReasons?.[0])}`);
        }
      }
    }
    if (lines.length === 0) return;
    mkdirSync(dirname(recapFile), { recursive: true });
    appendFileSync(recapFile, `${lines.join('\n')}\n`);
  }
}

/** The message's first lines (an assertion's expected and received), without colours, cut to a line's width. */
function firstLines(message = '') {
  // eslint-disable-next-line no-control-regex
  const lines = message.replace(/\u001b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim()).filter(Boolean);
  const text = lines.slice(0, 3).join(' | ');
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
