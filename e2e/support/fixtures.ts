import { emulatorAnswer } from '@switchboard/bedrock-emulator';
import type { Page } from 'playwright-core';
import { testModels } from './stack';

export const defaultModelId = testModels[0]!.id;

/** A prompt whose deterministic emulator answer contains a complete fenced code block. */
export function promptWithCode(modelId = defaultModelId): { prompt: string; answer: string } {
  for (let i = 0; i < 500; i++) {
    const prompt = `Show me how the queue works, with code (${i}) [[emulator:tokens=120]]`;
    const answer = emulatorAnswer({ modelId, messages: [{ role: 'user', content: [{ text: prompt }] }] }).text;
    if ((answer.match(/```/g) ?? []).length >= 2) return { prompt, answer };
  }
  throw new Error('no prompt with a code block found');
}

export function expectedAnswer(prompt: string, modelId = defaultModelId) {
  return emulatorAnswer({ modelId, messages: [{ role: 'user', content: [{ text: prompt }] }] });
}

/** A PNG drawn by the page's own canvas (no image library needed in node). */
export async function pngBase64(page: Page, width: number, height: number): Promise<string> {
  return page.evaluate(
    ([w, h]) => {
      const c = document.createElement('canvas');
      c.width = w!;
      c.height = h!;
      const x = c.getContext('2d')!;
      x.fillStyle = '#3366cc';
      x.fillRect(0, 0, w!, h!);
      x.fillStyle = '#ffcc00';
      x.fillRect(w! / 4, h! / 4, w! / 2, h! / 2);
      return c.toDataURL('image/png').split(',')[1]!;
    },
    [width, height],
  );
}

/** A minimal valid one-page PDF with a line of text. */
export function tinyPdf(text = 'Hello from a PDF'): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    null,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const stream = `BT /F1 18 Tf 20 100 Td (${text}) Tj ET`;
  objects[3] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) body += `${String(off).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/** Picks a model in the Material select by id. */
export async function selectModel(page: Page, modelId: string): Promise<void> {
  await page.getByTestId('model-select').click();
  await page.locator(`mat-option[data-model-id="${modelId}"]`).click();
  await page.locator('mat-option').first().waitFor({ state: 'detached' });
}

/** Adds a fault to the stack's Bedrock emulator (its admin API), e.g. a stream that breaks after a few tokens. */
export async function injectFault(spec: Record<string, unknown>): Promise<void> {
  const url = process.env.E2E_EMULATOR_URL;
  if (!url) throw new Error('E2E_EMULATOR_URL is not set (global setup reads it from the stack output)');
  const res = await fetch(`${url}/_emulator/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(spec) });
  if (res.status !== 201) throw new Error(`fault not added: ${res.status} ${await res.text()}`);
}

/** Calls the API as the signed-in user of the page (its stored token). */
export async function apiAs<T>(page: Page, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  return page.evaluate(
    async ({ path, init }) => {
      const stored = JSON.parse(localStorage.getItem('sb.token') ?? sessionStorage.getItem('sb.token') ?? '{}') as { token?: string };
      const res = await fetch(path, {
        method: init.method ?? 'GET',
        headers: { Authorization: `Bearer ${stored.token}`, ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
    },
    { path, init },
  );
}
