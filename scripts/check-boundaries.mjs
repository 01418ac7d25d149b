// Proves that eslint.config.mjs enforces the layering rules: lints small in-memory files placed in
// each project (nothing is written to disk) and checks that @nx/enforce-module-boundaries rejects
// every forbidden import and accepts the allowed ones. Run by `npm run lint` (and so `npm test`).
import { ESLint } from 'eslint';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProjectGraphAsync } from 'nx/src/devkit-exports.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RULE = '@nx/enforce-module-boundaries';

// [file the import is written in, module specifier, expected]
const probes = [
  // Apps never import apps (by package name or by a relative path).
  ['api/src/probe.ts', '@switchboard/worker', 'forbidden'],
  ['worker/src/probe.ts', '@switchboard/api', 'forbidden'],
  ['api/src/probe.ts', '../../worker/src/main.js', 'forbidden'],
  ['web/src/app/probe.ts', '@switchboard/api', 'forbidden'],
  ['infra/lib/probe.ts', '@switchboard/worker', 'forbidden'],
  ['api/test/probe.spec.ts', '@switchboard/worker', 'forbidden'],
  // Libraries never import apps.
  ['libs/server-core/src/probe.ts', '@switchboard/api', 'forbidden'],
  ['libs/contracts/src/probe.ts', '@switchboard/worker', 'forbidden'],
  ['libs/testing/src/probe.ts', '@switchboard/api', 'forbidden'],
  ['libs/bedrock-emulator/src/probe.ts', '@switchboard/worker', 'forbidden'],
  // The contract depends on nothing of ours.
  ['libs/contracts/src/probe.ts', '@switchboard/server-core', 'forbidden'],
  // The browser never imports server code, not even from its tests.
  ['web/src/app/probe.ts', '@switchboard/server-core', 'forbidden'],
  ['web/src/app/probe.ts', '@switchboard/bedrock-emulator', 'forbidden'],
  ['web/src/app/probe.ts', '@switchboard/testing', 'forbidden'],
  ['web/src/app/probe.ts', '@switchboard/worker', 'forbidden'],
  ['web/src/app/probe.spec.ts', '@switchboard/testing', 'forbidden'],
  ['infra/lib/probe.ts', '@switchboard/server-core', 'forbidden'],
  // Production code never imports the emulator or the test support.
  ['api/src/probe.ts', '@switchboard/bedrock-emulator', 'forbidden'],
  ['api/src/probe.ts', '@switchboard/testing', 'forbidden'],
  ['worker/src/probe.ts', '@switchboard/bedrock-emulator', 'forbidden'],
  ['worker/src/probe.ts', '@switchboard/testing', 'forbidden'],
  ['libs/server-core/src/probe.ts', '@switchboard/testing', 'forbidden'],
  // Allowed: the layering the code relies on today.
  ['api/src/probe.ts', '@switchboard/server-core', 'allowed'],
  ['api/src/probe.ts', '@switchboard/contracts', 'allowed'],
  ['worker/src/probe.ts', '@switchboard/server-core', 'allowed'],
  ['web/src/app/probe.ts', '@switchboard/contracts', 'allowed'],
  ['infra/lib/probe.ts', '@switchboard/contracts', 'allowed'],
  ['libs/server-core/src/probe.ts', '@switchboard/contracts', 'allowed'],
  ['api/test/probe.spec.ts', '@switchboard/bedrock-emulator', 'allowed'],
  ['api/test/support/probe.ts', '@switchboard/testing', 'allowed'],
  ['worker/src/probe.spec.ts', '@switchboard/bedrock-emulator', 'allowed'],
  ['libs/server-core/src/probe.spec.ts', '@switchboard/testing', 'allowed'],
  ['tests/integration/probe.ts', '@switchboard/bedrock-emulator', 'allowed'],
  ['e2e/support/probe.ts', '@switchboard/bedrock-emulator', 'allowed'],
];

// Outside an nx command the boundaries rule reads nx's cached project graph, and silently skips
// itself when there is none (a fresh clone): make sure it is there and current.
process.chdir(root);
await createProjectGraphAsync({ exitOnError: true });
const eslint = new ESLint({ cwd: root });
let passed = 0;
let failed = 0;
for (const [file, specifier, expected] of probes) {
  const [result] = await eslint.lintText(`import '${specifier}';\n`, { filePath: join(root, file) });
  const errors = result.messages.filter((m) => m.ruleId === RULE || m.fatal);
  const got = errors.length > 0 ? 'forbidden' : 'allowed';
  if (got === expected) {
    passed++;
  } else {
    failed++;
    const why = errors.map((m) => m.message).join('; ') || 'no boundary error';
    console.error(`FAIL ${file}: import '${specifier}' should be ${expected}, was ${got} (${why})`);
  }
}
console.log(`boundaries: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
