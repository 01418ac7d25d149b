import { ChangeDetectionStrategy, Component, ElementRef, Injectable, effect, input, inject } from '@angular/core';

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
  host: { class: 'sb-md', 'data-testid': 'markdown' },
  template: ``,
})
export class MarkdownComponent {
  readonly text = input.required<string>();
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);
  private readonly renderer = inject(MarkdownRenderer);
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
      });
    });
  }
}
