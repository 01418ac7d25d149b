/**
 * A typed batch client in a few lines: types generated from the API's own OpenAPI document with
 * openapi-typescript, requests made with openapi-fetch.
 *
 *   npx openapi-typescript http://localhost:3000/docs/openapi.json -o switchboard-api.ts
 *   npm i openapi-fetch
 *
 * (api/test/openapi-client.spec.ts generates the types, type-checks this file and runs it against a
 * test API, so it cannot drift from the API.)
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './switchboard-api.js';

export type Batch = components['schemas']['Batch'];
export type BatchItem = components['schemas']['BatchItem'];
export type BatchResultLine = components['schemas']['BatchResultLine'];

export function switchboard(baseUrl: string, token: string) {
  return createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } });
}

/** Submits the items as one batch; the key makes a retry of this call safe (same body → same batch). */
export async function submitBatch(client: ReturnType<typeof switchboard>, items: BatchItem[], key: string, callbackUrl?: string): Promise<Batch> {
  const { data, error, response } = await client.POST('/v1/batches', {
    params: { header: { 'Idempotency-Key': key } },
    body: { items, ...(callbackUrl ? { callbackUrl } : {}), metadata: { submittedBy: 'nightly-job' } },
  });
  if (error) throw new Error(`${response.status} ${error.error.code}: ${error.error.message}`);
  return data;
}

/** Polls the batch until every item ended (a webhook on callbackUrl saves the polling). */
export async function waitForBatch(client: ReturnType<typeof switchboard>, id: string, everyMs = 2000): Promise<Batch> {
  for (;;) {
    const { data, error } = await client.GET('/v1/batches/{id}', { params: { path: { id } } });
    if (error) throw new Error(error.error.message);
    if (data.status === 'completed' || data.status === 'cancelled') return data;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Reads the JSONL results line by line as they stream in. */
export async function* readResults(baseUrl: string, token: string, id: string): AsyncGenerator<BatchResultLine> {
  const res = await fetch(`${baseUrl}/v1/batches/${id}/results`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok || !res.body) throw new Error(`results: HTTP ${res.status}`);
  let buffered = '';
  for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) if (line) yield JSON.parse(line) as BatchResultLine;
  }
}
