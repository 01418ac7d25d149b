import { ChangeDetectionStrategy, Component, ElementRef, Injectable, effect, input, inject } from '@angular/core';
import { LanguageService } from '../../core/language.service';

type Render = (source: string) => string;

/** Loads the markdown engine on first use. */
@Injectable({ providedIn: 'root' })
export class MarkdownRenderer {
  private engine: Promise<Render> | null = null;

  load(): Promise<Render> {
    this.engine ??= import('./markdown-engine').then((m) => m.renderMarkdown);
    return this.engine;
  }
}

/**
 * Renders markdown text as sanitised HTML. While an answer streams, renders at most once per
 * animation frame.
 */
@Component({
  selector: 'sb-markdown',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'sb-md', 'data-testid': 'markdown', '(click)': 'clicked($event)' },
  template: ``,
})
export class MarkdownComponent {
  readonly text = input.required<string>();
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);
  private readonly renderer = inject(MarkdownRenderer);
  private readonly lang = inject(LanguageService);
  private latest = '';
  private scheduled = false;

  constructor() {
    effect(() => {
      this.latest = this.text();
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
      });
    });
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
