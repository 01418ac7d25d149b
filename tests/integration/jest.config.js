import { serverJestPreset } from '../../jest.preset.js';

export default {
  ...serverJestPreset,
  rootDir: '.',
  testMatch: ['<rootDir>/**/*.spec.ts'],
  testTimeout: 60_000,
};
