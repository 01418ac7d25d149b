import { ChangeDetectionStrategy, Component, ElementRef, Injectable, effect, input, inject } from '@angular/core';
import { LanguageService } from '../../core/language.service';
import { ThemeService } from '../../core/theme.service';

type Render = (source: string) => string;

/** Loads the markdown engine on first use. */
@Injectable({ providedIn: 'root' })
export class MarkdownRenderer {
  private engine: Promise<Render> | null = null;

  load(): Promise<Render> {
    this.engine ??= import('./markdown-engine').then((m) => m.renderMarkdown);
    return this.engine;
  }

  /** mermaid, loaded only when an answer has a ```mermaid block. */
  loadMermaid(): Promise<typeof import('./mermaid-diagrams')> {
    this.mermaid ??= import('./mermaid-diagrams');
    return this.mermaid;
  }

  private mermaid: Promise<typeof import('./mermaid-diagrams')> | null = null;
}

/**
 * Renders markdown text as sanitised HTML. While an answer streams, renders at most once per
 * animation frame. ```mermaid blocks become diagrams once the text is complete (not while it streams).
 */
@Component({
  selector: 'sb-markdown',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'sb-md', 'data-testid': 'markdown', '(click)': 'clicked($event)' },
  template: ``,
})
export class MarkdownComponent {
  readonly text = input.required<string>();
  /** False while the text is still streaming: diagrams wait for the whole answer. */
  readonly complete = input(true);
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);
  private readonly renderer = inject(MarkdownRenderer);
  private readonly lang = inject(LanguageService);
  private readonly theme = inject(ThemeService);
  private latest = '';
  private scheduled = false;
  /** Bumped on every render: a diagram render for older HTML is dropped. */
  private generation = 0;

  constructor() {
    effect(() => {
      this.latest = this.text();
      // Read here so a change of either re-renders (diagrams follow the theme).
      this.complete();
      this.theme.theme();
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    void this.renderer.load().then((render) => {
      requestAnimationFrame(() => {
        this.scheduled = false;
        // Sanitised by DOMPurify in renderMarkdown.
        this.host.nativeElement.innerHTML = render(this.latest);
        this.decorateCode();
        this.renderDiagrams();
      });
    });
  }

  private renderDiagrams(): void {
    const generation = ++this.generation;
    if (!this.complete()) return;
    const blocks = Array.from(this.host.nativeElement.querySelectorAll<HTMLElement>('pre[data-lang="mermaid"]'));
    if (blocks.length === 0) return;
    const dark = this.theme.theme() === 'dark';
    void this.renderer
      .loadMermaid()
      .then((m) => m.renderMermaidBlocks(blocks, dark, () => generation === this.generation))
      .catch(() => undefined); // The chunk failed to load: the code blocks stay as they are.
  }

  /** Each code block gets a head with its language and a copy button (built here, not from model text). */
  private decorateCode(): void {
    for (const pre of Array.from(this.host.nativeElement.querySelectorAll('pre'))) {
      const head = document.createElement('div');
      head.className = 'code-head';
      const label = document.createElement('span');
      label.className = 'code-lang';
      label.dataset['testid'] = 'code-lang';
      label.textContent = pre.dataset['lang'] || 'text';
      const copy = document.createElement('button');
      copy.type = 'button';
      copy.className = 'code-copy';
      copy.dataset['testid'] = 'code-copy';
      copy.textContent = this.lang.instant('chat.copyCode');
      head.append(label, copy);
      pre.before(head);
    }
  }

  protected clicked(event: MouseEvent): void {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button.code-copy');
    const code = button?.parentElement?.nextElementSibling?.querySelector('code');
    if (!button || !code) return;
    void navigator.clipboard.writeText(code.textContent ?? '').then(() => {
      button.textContent = this.lang.instant('chat.copiedCode');
      setTimeout(() => (button.textContent = this.lang.instant('chat.copyCode')), 1500);
    });
  }
}
