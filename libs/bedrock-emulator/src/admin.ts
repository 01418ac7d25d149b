import { validateFault, type FaultSpec } from './faults.js';
import { readBody, sendJson, type Req, type Res } from './http.js';
import type { ConfigUpdate } from './config.js';
import type { EmulatorState } from './state.js';

export const ADMIN_PREFIX = '/_emulator/';

/**
 * The control API other processes use (no auth, JSON):
 * GET health | stats | config | faults; POST config | faults | reset; DELETE faults.
 */
export async function handleAdmin(state: EmulatorState, req: Req, res: Res, path: string): Promise<void> {
  const route = `${req.method} ${path.slice(ADMIN_PREFIX.length)}`;
  try {
    switch (route) {
      case 'GET health':
        return sendJson(res, 200, { ok: true });
      case 'GET stats':
        return sendJson(res, 200, state.stats());
      case 'GET config':
        return sendJson(res, 200, state.configJson());
      case 'POST config':
        state.configure((await readJson(req)) as ConfigUpdate);
        return sendJson(res, 200, state.configJson());
      case 'GET faults':
        return sendJson(res, 200, { faults: state.faults.list() });
      case 'POST faults': {
        const body = await readJson(req);
        const specs = (Array.isArray(body) ? body : [body]) as FaultSpec[];
        specs.forEach(validateFault);
        const added = specs.map((spec) => state.faults.add(spec));
        return sendJson(res, 201, { faults: added });
      }
      case 'DELETE faults':
        state.faults.clear();
        return sendJson(res, 200, { faults: [] });
      case 'POST reset': {
        const body = (await readJson(req)) as { config?: boolean } | null;
        state.reset({ config: body?.config === true });
        return sendJson(res, 200, { ok: true });
      }
      default:
        return sendJson(res, 404, { error: `no admin route ${route}` });
    }
  } catch (err) {
    sendJson(res, 400, { error: err instanceof Error ? err.message : String(err) });
  }
}

async function readJson(req: Req): Promise<unknown> {
  const raw = (await readBody(req)).toString('utf8').trim();
  if (!raw) return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new TypeError('body must be JSON');
  }
}
