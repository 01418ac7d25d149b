import { startStack } from './stack';

/** One stack for the whole run; tests read its URL from E2E_BASE_URL (set it to reuse a running stack). */
export default async function globalSetup(): Promise<void> {
  if (process.env.E2E_BASE_URL) return;
  const stack = await startStack();
  process.env.E2E_BASE_URL = stack.url;
  (globalThis as { __sbStack?: typeof stack }).__sbStack = stack;
}
