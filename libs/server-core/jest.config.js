import { serverJestPreset } from '../../jest.preset.js';

export default { ...serverJestPreset, rootDir: '.', testMatch: ['<rootDir>/src/**/*.spec.ts'] };
