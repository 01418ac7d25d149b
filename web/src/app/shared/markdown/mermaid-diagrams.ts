// Loaded lazily (dynamic import) by MarkdownComponent, and only for answers with a ```mermaid block:
// mermaid is large and most answers never need it.
import mermaid from 'mermaid';

let counter = 0;
let queue: Promise<unknown> = Promise.resolve();

/**
 * Renders each ```mermaid block (a `pre[data-lang=mermaid]`) as a diagram placed after it and hides
 * the source block; its code head (language label, copy button) stays, so the source remains
 * copyable. A block that does not parse is left as it is: the code is shown.
 */
export function renderMermaidBlocks(blocks: readonly HTMLElement[], dark: boolean, isCurrent: () => boolean): Promise<void> {
  // mermaid's configuration is global: renders are serialised so two answers never mix themes.
  const run = queue.then(() => renderAll(blocks, dark, isCurrent));
  queue = run.catch(() => undefined);
  return run;
}

async function renderAll(blocks: readonly HTMLElement[], dark: boolean, isCurrent: () => boolean): Promise<void> {
  mermaid.initialize({
    startOnLoad: false,
    // Strict: labels are sanitised, no click handlers or scripts in diagrams.
    securityLevel: 'strict',
    theme: dark ? 'dark' : 'default',
    // Model text is hostile: bound what a single diagram may cost.
    maxTextSize: 20_000,
    maxEdges: 500,
  });
  for (const pre of blocks) {
    if (!isCurrent()) return;
    const source = pre.querySelector('code')?.textContent ?? '';
    try {
      // parse() throws on a syntax error before render() touches the document.
      await mermaid.parse(source);
      const { svg } = await mermaid.render(`sb-mermaid-${++counter}`, source);
      if (!isCurrent() || !pre.isConnected) return;
      const figure = document.createElement('div');
      figure.className = 'mermaid-diagram';
      figure.dataset['testid'] = 'mermaid-diagram';
      // Produced by mermaid with securityLevel 'strict' (sanitised with DOMPurify inside mermaid).
      figure.innerHTML = svg;
      pre.after(figure);
      pre.hidden = true;
    } catch {
      // Not a valid diagram: the code block stays visible as the fallback.
      pre.dataset['mermaidError'] = '';
    }
  }
}
