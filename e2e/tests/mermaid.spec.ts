import { chromiumForThisFile, lastAnswer, newPage, sendMessage, signIn, waitForAnswerDone, watchCsp } from '../support/browser';

// Issue 18 item 9: ```mermaid blocks in answers render as diagrams (mermaid loaded lazily, under the CSP).
const browser = chromiumForThisFile();

const diagram = 'graph TD\n  Q[Queue] --> W[Worker]\n  W --> D[(Database)]';

test('a mermaid block renders as an SVG diagram, lazily and under the CSP; its source stays copyable', async () => {
  const { context, page, errors } = await newPage(browser());
  const violations = await watchCsp(page);
  await signIn(page);
  await sendMessage(page, '[[emulator:echo]] A plain answer with code:\n\n```ts\nconst x = 1;\n```');
  await waitForAnswerDone(page);
  expect(await lastAnswer(page).getByTestId('code-lang').innerText()).toBe('ts');
  // mermaid is not fetched for answers without a diagram: every script after this point is new.
  const scripts: string[] = [];
  page.on('request', (r) => r.resourceType() === 'script' && scripts.push(r.url()));

  await sendMessage(page, `[[emulator:echo]] The flow:\n\n\`\`\`mermaid\n${diagram}\n\`\`\`\n\nThat is all.`);
  await waitForAnswerDone(page);
  const svg = lastAnswer(page).locator('[data-testid="mermaid-diagram"] svg');
  await svg.waitFor();
  expect(await svg.locator('text=Worker').count()).toBeGreaterThan(0);
  expect(scripts.length).toBeGreaterThan(0);
  expect(await lastAnswer(page).getByTestId('code-lang').innerText()).toBe('mermaid');
  expect(await lastAnswer(page).locator('pre').isHidden()).toBe(true);
  await lastAnswer(page).getByTestId('code-copy').click();
  await page.waitForFunction((c) => navigator.clipboard.readText().then((t) => t === c), diagram);
  expect(await violations()).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
});

test('a broken mermaid block is shown as its code, in dark theme too', async () => {
  const { context, page } = await newPage(browser());
  const violations = await watchCsp(page);
  await signIn(page);
  await page.evaluate(() => localStorage.setItem('sb.theme', 'dark'));
  await page.reload();
  await page.getByTestId('composer-input').waitFor();
  const broken = 'this is not a diagram --> at all {{';
  await sendMessage(page, `[[emulator:echo]] Two diagrams:\n\n\`\`\`mermaid\n${broken}\n\`\`\`\n\n\`\`\`mermaid\n${diagram}\n\`\`\``);
  await waitForAnswerDone(page);
  // The valid one renders; the broken one stays a visible code block with its source.
  await lastAnswer(page).locator('[data-testid="mermaid-diagram"] svg').waitFor();
  expect(await lastAnswer(page).locator('[data-testid="mermaid-diagram"]').count()).toBe(1);
  const pre = lastAnswer(page).locator('pre').first();
  expect(await pre.isVisible()).toBe(true);
  expect(await pre.innerText()).toBe(broken);
  expect(await lastAnswer(page).getByTestId('code-lang').allInnerTexts()).toEqual(['mermaid', 'mermaid']);
  expect(await violations()).toEqual([]);
  await context.close();
});
