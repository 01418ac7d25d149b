import { serverJestPreset } from '../jest.preset.js';

export default {
  ...serverJestPreset,
  rootDir: '.',
  testMatch: ['<rootDir>/tests/**/*.spec.ts'],
  globalSetup: '<rootDir>/support/global-setup.ts',
  globalTeardown: '<rootDir>/support/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/support/retry.ts'],
  testTimeout: 60_000,
};
