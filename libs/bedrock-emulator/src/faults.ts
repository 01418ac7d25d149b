import { seededRandom } from './answers.js';
import type { StreamExceptionType } from './event-stream.js';

/**
 * - `serviceUnavailable`: HTTP 503 ServiceUnavailableException before the response starts.
 * - `throttling`: HTTP 429 ThrottlingException before the response starts (counts as a 429 like quota).
 * - `streamError`: after `afterTokens` deltas, an exception frame (`exception`, default
 *   modelStreamErrorException) ends the stream. Only matches streaming operations.
 */
export type FaultType = 'serviceUnavailable' | 'throttling' | 'streamError';

export interface FaultSpec {
  type: FaultType;
  /** Model id the fault applies to; omitted or `*` = every model. */
  model?: string;
  /** Only requests whose last user text contains this (so concurrent tests do not take each other's faults). */
  promptContains?: string;
  /** Fire for the next N matching requests (default 1 when no probability is given). */
  count?: number;
  /** Fire with this probability per matching request, from a PRNG seeded with `seed`. */
  probability?: number;
  seed?: number;
  /** streamError only. */
  afterTokens?: number;
  exception?: StreamExceptionType;
  message?: string;
}

export interface ActiveFault extends FaultSpec {
  id: number;
  /** How many times it has fired. */
  fired: number;
  /** Remaining count, when count-based. */
  remaining?: number;
}

export class FaultInjector {
  private faults: (ActiveFault & { rand?: () => number })[] = [];
  private nextId = 1;

  add(spec: FaultSpec): ActiveFault {
    validateFault(spec);
    const fault: ActiveFault & { rand?: () => number } = { ...spec, id: this.nextId++, fired: 0 };
    if (spec.probability !== undefined) fault.rand = seededRandom(spec.seed ?? 1);
    else fault.remaining = spec.count ?? 1;
    this.faults.push(fault);
    return publicFault(fault);
  }

  /**
   * The fault to apply to this request, if any; consumes one use. Faults are checked in the order
   * they were added, so a count-based fault queued first fires first.
   */
  take(modelId: string, streaming: boolean, userText = ''): ActiveFault | undefined {
    for (const fault of this.faults) {
      if (fault.model !== undefined && fault.model !== '*' && fault.model !== modelId) continue;
      if (fault.promptContains !== undefined && !userText.includes(fault.promptContains)) continue;
      if (fault.type === 'streamError' && !streaming) continue;
      if (fault.rand) {
        if (fault.rand() >= fault.probability!) continue;
      } else {
        fault.remaining! -= 1;
        if (fault.remaining! <= 0) this.faults = this.faults.filter((f) => f !== fault);
      }
      fault.fired += 1;
      return publicFault(fault);
    }
    return undefined;
  }

  list(): ActiveFault[] {
    return this.faults.map(publicFault);
  }

  clear(): void {
    this.faults = [];
  }
}

function publicFault(fault: ActiveFault & { rand?: () => number }): ActiveFault {
  const { rand: _rand, ...rest } = fault;
  return rest;
}

const TYPES: readonly FaultType[] = ['serviceUnavailable', 'throttling', 'streamError'];
const EXCEPTIONS: readonly StreamExceptionType[] = [
  'modelStreamErrorException',
  'throttlingException',
  'internalServerException',
  'serviceUnavailableException',
  'validationException',
];

/** Throws a TypeError naming the first bad field. */
export function validateFault(spec: FaultSpec): void {
  if (typeof spec !== 'object' || spec === null) throw new TypeError('a fault must be an object');
  if (!TYPES.includes(spec.type)) throw new TypeError(`fault type must be one of ${TYPES.join(', ')}`);
  if (spec.exception !== undefined && !EXCEPTIONS.includes(spec.exception)) {
    throw new TypeError(`fault exception must be one of ${EXCEPTIONS.join(', ')}`);
  }
  if (spec.promptContains !== undefined && !(typeof spec.promptContains === 'string' && spec.promptContains.length > 0 && spec.promptContains.length <= 1000)) {
    throw new TypeError('fault promptContains must be a string of 1 to 1000 characters');
  }
  if (spec.count !== undefined && !(Number.isInteger(spec.count) && spec.count > 0)) {
    throw new TypeError('fault count must be a positive integer');
  }
  if (spec.probability !== undefined && !(spec.probability >= 0 && spec.probability <= 1)) {
    throw new TypeError('fault probability must be within [0, 1]');
  }
  if (spec.count !== undefined && spec.probability !== undefined) {
    throw new TypeError('give a fault either count or probability, not both');
  }
  if (spec.afterTokens !== undefined && !(Number.isInteger(spec.afterTokens) && spec.afterTokens >= 0)) {
    throw new TypeError('fault afterTokens must be a non-negative integer');
  }
}
