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
