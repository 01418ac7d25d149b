// ESLint 9 flat config for the whole workspace. Each project's `lint` script runs `eslint .` in its
// own folder; ESLint finds this file by walking up. See docs/architecture.md ("Layering rules").
//
// Run it through nx (`npm run lint`, `npx nx run @switchboard/api:lint`): run bare on a fresh clone,
// the boundaries rule finds no cached nx project graph and skips itself with only a warning.
//
// Kept deliberately small: the module boundaries (the point of this file) plus correctness rules
// that the tree already satisfies. Type-aware rules are not enabled, so lint needs no build and
// stays fast.
import eslint from '@eslint/js';
import nx from '@nx/eslint-plugin';
import angular from 'angular-eslint';
import tseslint from 'typescript-eslint';

// Files that are tests or test support. They may import the Bedrock emulator and @switchboard/testing;
// production code may not.
const testFiles = [
  '**/*.spec.ts',
  '**/test/**/*.ts',
  'tests/**/*.ts',
  'e2e/**/*.ts',
];

// Project tags live in each package.json under `nx.tags`:
//   type:app           api, worker, web, infra         (deployables)
//   type:lib           contracts, server-core          (shipped inside the apps)
//   type:test-support  bedrock-emulator, testing       (used by tests and `npm start` only)
//   type:test          integration-tests, e2e          (test suites; may reach anything)
//   scope:server       api, worker, server-core        (Node server code)
//   scope:web          web                             (browser code)
//   scope:infra        infra                           (CDK)
//   scope:shared       contracts                       (the wire contract, importable everywhere)
//   scope:test         bedrock-emulator, testing, integration-tests, e2e
const productionConstraints = [
  // Apps never import apps; production code never imports the emulator or @switchboard/testing.
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  // Libraries never import apps (nor test support).
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:test-support', onlyDependOnLibsWithTags: ['type:lib', 'type:test-support'] },
  { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['*'] },
  // The browser never imports server code: only the shared contract.
  { sourceTag: 'scope:web', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:infra', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:server', onlyDependOnLibsWithTags: ['scope:server', 'scope:shared'] },
  { sourceTag: 'scope:test', onlyDependOnLibsWithTags: ['*'] },
];

// Tests of a project may also use the test support libraries; everything else stays as above
// (a test still cannot import another app, and web's tests still cannot import server code).
const testConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:test-support'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:test-support'] },
  { sourceTag: 'type:test-support', onlyDependOnLibsWithTags: ['type:lib', 'type:test-support'] },
  { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['*'] },
  { sourceTag: 'scope:web', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:infra', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:server', onlyDependOnLibsWithTags: ['scope:server', 'scope:shared', 'scope:test'] },
  { sourceTag: 'scope:test', onlyDependOnLibsWithTags: ['*'] },
];

const boundaries = (depConstraints) => [
  'error',
  { enforceBuildableLibDependency: false, allow: [], depConstraints },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.angular/**',
      '**/cdk.out/**',
      '**/coverage/**',
      '**/test-results/**',
      '**/.data/**',
      // Plain JS here is only jest configs and the start script; they are not linted.
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  {
    files: ['**/*.ts'],
    extends: [eslint.configs.recommended, ...tseslint.configs.recommended],
    plugins: { '@nx': nx },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@nx/enforce-module-boundaries': boundaries(productionConstraints),
      // `_` marks a deliberately unused binding (rest-destructuring to drop a field, positional
      // callback args). `Context` is the type parameter ioredis's declaration merging must repeat
      // (`interface RedisCommander<Context>` in server-core's quota and stream modules).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^(_|Context$)',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
          caughtErrors: 'none',
        },
      ],
      // The emulator's sleep() keeps `self` for a hoisted function declaration that cancels itself.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
    },
  },
  {
    files: testFiles,
    rules: {
      '@nx/enforce-module-boundaries': boundaries(testConstraints),
      // Tests reach into synthesized CloudFormation and raw wire frames; `any` is the honest type.
      '@typescript-eslint/no-explicit-any': 'off',
      // Tests keep named results of setup steps for readability: reported, not failing.
      '@typescript-eslint/no-unused-vars': [
        'warn',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true, caughtErrors: 'none' },
      ],
    },
  },
  {
    files: ['web/**/*.ts'],
    extends: [...angular.configs.tsRecommended],
    processor: angular.processInlineTemplates,
    rules: {
      // Off because fixing means renaming a component's public bindings (source changes):
      // - no-input-rename: sign-in's `expired` alias is the router query parameter's name.
      // - no-output-native: <sb-message>'s `copy` output shares its name with the DOM `copy` event,
      //   which bubbles from a text selection inside the message to the same (copy) listener.
      //   Renaming the output (e.g. `copyText`) fixes that; then turn this rule back on.
      '@angular-eslint/no-input-rename': 'off',
      '@angular-eslint/no-output-native': 'off',
    },
  },
  {
    files: ['web/**/*.html'],
    extends: [...angular.configs.templateRecommended],
  },
);
