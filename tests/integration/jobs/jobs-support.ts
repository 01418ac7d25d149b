import { createHmac, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import request from 'supertest';
import type { Job } from '@switchboard/contracts';

export const bigModel = 'test.summarizer-large';
/** A tiny context window makes a 50-page PDF go through map-reduce quickly. */
export const tinyModel = 'test.summarizer-tiny';

/** A MODELS_FILE for the test stack. */
export function writeModelsFile(): string {
  const base = { vision: false, documents: true, quota: { requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000 }, price: { inputPer1k: 0, outputPer1k: 0 } };
  const file = join(tmpdir(), `sb-models-${process.pid}-${Date.now()}.json`);
  writeFileSync(
    file,
    JSON.stringify([
      { ...base, id: bigModel, name: 'Large', maxOutputTokens: 4096, contextWindow: 200_000, default: true },
      { ...base, id: tinyModel, name: 'Tiny', maxOutputTokens: 400, contextWindow: 4000 },
    ]),
  );
  return file;
}

/** Polls GET /v1/jobs/:id until the job ends; calls onJob with every state seen. */
export async function waitForJob(url: string, token: string, id: string, opts: { timeoutMs?: number; onJob?: (job: Job) => void; until?: (job: Job) => boolean } = {}): Promise<Job> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const done = opts.until ?? ((j: Job) => ['completed', 'failed', 'cancelled'].includes(j.status));
  for (;;) {
    const res = await request(url).get(`/v1/jobs/${id}`).set('authorization', `Bearer ${token}`);
    if (res.status !== 200) throw new Error(`GET job ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    opts.onJob?.(res.body as Job);
    if (done(res.body as Job)) return res.body as Job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${res.body.status} after ${opts.timeoutMs ?? 60_000} ms`);
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A PDF of `pages` pages of prose; each page carries `pageText(n)` first. */
export async function makePdf(pages: number, pageText: (n: number) => string = () => ''): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= pages; n++) {
    const page = doc.addPage([612, 792]);
    const lines = [`Page ${n}. ${pageText(n)}`];
    for (let i = 0; i < 30; i++) {
      lines.push(`Section ${n}.${i}: the committee reviewed item ${n * 100 + i} and agreed on budget ${(n * 37 + i) % 1000} units.`);
    }
    lines.forEach((line, i) => page.drawText(line, { x: 40, y: 750 - i * 22, size: 10, font }));
  }
  return Buffer.from(await doc.save());
}

/** A local callback receiver: answers with the next status of `statuses` (then 200). */
export async function startReceiver(statuses: number[] = []): Promise<{ url: string; calls: { headers: IncomingMessage['headers']; body: string; status: number }[]; close(): Promise<void> }> {
  const calls: { headers: IncomingMessage['headers']; body: string; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const status = statuses.shift() ?? 200;
      calls.push({ headers: req.headers, body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, calls, close: () => new Promise((r) => server.close(() => r())) };
}

/** How a receiver checks a callback: HMAC-SHA256 of "<timestamp>.<body>" with the secret. */
export function validSignature(secret: string, headers: IncomingMessage['headers'], body: string): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(`${headers['x-switchboard-timestamp']}.${body}`).digest('hex')}`;
  const given = String(headers['x-switchboard-signature'] ?? '');
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}
