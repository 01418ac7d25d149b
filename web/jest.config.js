import { serverJestPreset } from '../jest.preset.js';

/** Unit tests of the portal's pure logic (no DOM, no Angular TestBed); the UI is covered by e2e/. */
export default { ...serverJestPreset, rootDir: '.', testMatch: ['<rootDir>/src/**/*.spec.ts'] };
