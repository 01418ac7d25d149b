import type { Logger } from '@switchboard/server-core';

/** How long one protection lasts; renewed well before it lapses while streams keep running. */
const protectionMinutes = 15;
const renewEveryMs = 5 * 60_000;
/**
 * Protection also holds off deployments, so a worker busy without pause must not keep it forever:
 * after this long it lets the protection lapse until it has been idle once (a deployment or
 * scale-in then stops it gracefully: drain, then hand-over).
 */
const maxContinuousMs = 60 * 60_000;

export type TaskProtection = {
  /** Runs `work` counted as in flight: the first one turns protection on, the last one off. */
  track<T>(work: () => Promise<T>): Promise<T>;
  /** Jobs currently counted. */
  readonly inFlight: number;
  stop(): Promise<void>;
};

/**
 * ECS task scale-in protection while this worker has jobs in flight, so target tracking scaling in
 * never picks a task in the middle of streams (it picks an idle one). Uses the ECS agent's
 * endpoint ($ECS_AGENT_URI/task-protection/v1/state); without ECS_AGENT_URI (laptops, tests) it
 * only counts. Failures are logged: protection is an optimisation, never a reason to fail a job.
 */
export function createTaskProtection(agentUri: string | undefined, logger: Logger): TaskProtection {
  let inFlight = 0;
  let protectedNow = false;
  let protectedSince = 0;
  let exhausted = false;
  let renewTimer: NodeJS.Timeout | undefined;
  // Calls go out one at a time and in order, so a late "on" never overrides a later "off".
  let chain: Promise<void> = Promise.resolve();

  const put = (enabled: boolean) => {
    if (!agentUri) return;
    chain = chain.then(async () => {
      try {
        const res = await fetch(`${agentUri}/task-protection/v1/state`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(enabled ? { ProtectionEnabled: true, ExpiresInMinutes: protectionMinutes } : { ProtectionEnabled: false }),
          signal: AbortSignal.timeout(5000),
        });
        if (!res.ok) logger.warn({ status: res.status, enabled }, 'task protection update refused by the ECS agent');
        await res.body?.cancel();
      } catch (err) {
        logger.warn({ err: (err as Error).message, enabled }, 'task protection update failed');
      }
    });
  };
  const sync = () => {
    if (inFlight === 0) exhausted = false;
    const want = inFlight > 0 && !exhausted;
    if (want === protectedNow) return;
    protectedNow = want;
    put(want);
    clearInterval(renewTimer);
    if (want) {
      protectedSince = Date.now();
      renewTimer = setInterval(() => {
        if (Date.now() - protectedSince < maxContinuousMs) return put(true);
        // Lapses within protectionMinutes; not asked again before an idle moment.
        exhausted = true;
        protectedNow = false;
        clearInterval(renewTimer);
      }, renewEveryMs);
      renewTimer.unref();
    }
  };

  return {
    get inFlight() {
      return inFlight;
    },
    async track(work) {
      inFlight++;
      sync();
      try {
        return await work();
      } finally {
        inFlight--;
        // Back-to-back jobs keep the protection instead of toggling it off and on.
        setImmediate(sync);
      }
    },
    async stop() {
      clearInterval(renewTimer);
      if (protectedNow) {
        protectedNow = false;
        put(false);
      }
      await chain;
    },
  };
}
