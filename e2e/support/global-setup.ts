import { startStack } from './stack';

/** One stack for the whole run; tests read its URL from E2E_BASE_URL (set it to reuse a running stack). */
export default async function globalSetup(): Promise<void> {
  if (process.env.E2E_BASE_URL) return;
  const stack = await startStack();
  process.env.E2E_BASE_URL = stack.url;
  // The stack's own Bedrock emulator: tests inject faults through its admin API.
  const emulator = /local Bedrock emulator at (http:\/\/\S+?) /.exec(stack.output());
  if (emulator) process.env.E2E_EMULATOR_URL = emulator[1];
  (globalThis as { __sbStack?: typeof stack }).__sbStack = stack;
}
