// Shared jest settings for the ESM server packages (NestJS 12 is ESM-only).
// Run with NODE_OPTIONS=--experimental-vm-modules (the test targets set it).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(fileURLToPath(import.meta.url));

export const serverJestPreset = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  cacheDirectory: join(root, '.jest-cache'),
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'es6' },
      },
    ],
  },
  // jwks-rsa 4 loads jose 6, which ships ESM only: let the transformer see it.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  moduleNameMapper: {
    '^@switchboard/(contracts|server-core|bedrock-emulator|testing)$': join(root, 'libs/$1/src/index.ts'),
    '^@switchboard/contracts/constants$': join(root, 'libs/contracts/src/constants.ts'),
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 30_000,
  // The failures (and tests that passed only on a retry) again at the end of `npm test`.
  reporters: ['default', join(root, 'scripts/jest-recap-reporter.mjs')],
};
