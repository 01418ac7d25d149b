import { serverJestPreset } from '../../jest.preset.js';

export default {
  ...serverJestPreset,
  rootDir: import.meta.dirname,
  testMatch: ['**/src/**/*.spec.ts'],
};
