import { jest } from '@jest/globals';

// A browser test that fails is run once more: Chromium, the portal and the stack's timing make a
// rare miss that a second run clears. The first failure is still printed, and `npm test` names the
// test again at its end (scripts/jest-recap-reporter.mjs), so a flake stays visible.
jest.retryTimes(1, { logErrorsBeforeRetry: true });
