import { serverJestPreset } from '../jest.preset.js';

export default {
  ...serverJestPreset,
  displayName: 'infra',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  // Synthesizing the four stacks with cdk-nag takes a few seconds on 2 cores; done once per file in beforeAll.
  testTimeout: 120_000,
};
