import { ADMIN_PREFIX, handleAdmin } from './admin.js';
import { sendAwsError, type Req, type Res } from './http.js';
import { converseAdapter, converseStreamAdapter } from './routes/converse.js';
import { invokeAdapter, invokeStreamAdapter } from './routes/invoke.js';
import { handleModelRequest, type OperationAdapter } from './routes/pipeline.js';
import type { EmulatorState } from './state.js';

const ADAPTERS: Record<string, OperationAdapter> = {
  converse: converseAdapter,
  'converse-stream': converseStreamAdapter,
  invoke: invokeAdapter,
  'invoke-with-response-stream': invokeStreamAdapter,
};

// Model ids arrive URL-encoded (`:` as %3A, inference-profile ARNs with %2F), so match one raw segment.
const MODEL_ROUTE = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/;

export function createRouter(state: EmulatorState): (req: Req, res: Res) => void {
  return (req, res) => {
    route(state, req, res).catch(() => {
      // Only reached on a bug: never leave the client hanging.
      if (!res.headersSent) sendAwsError(res, 500, 'InternalServerException', 'Internal server error', 'emulator');
      else res.end();
    });
  };
}

async function route(state: EmulatorState, req: Req, res: Res): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  if (path.startsWith(ADMIN_PREFIX)) return handleAdmin(state, req, res, path);
  const match = MODEL_ROUTE.exec(path);
  if (!match || req.method !== 'POST') {
    return sendAwsError(res, 404, 'UnknownOperationException', `No operation matches ${req.method} ${path}`, state.newRequestId());
  }
  let modelId: string;
  try {
    modelId = decodeURIComponent(match[1]!);
  } catch {
    return sendAwsError(res, 400, 'ValidationException', 'The provided model identifier is invalid.', state.newRequestId());
  }
  return handleModelRequest(state, req, res, modelId, ADAPTERS[match[2]!]!);
}
