import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatSnackBar } from '@angular/material/snack-bar';
import type { Job, PublicModel } from '@switchboard/contracts';
import { TranslatePipe } from '@ngx-translate/core';
import { errorKey, toUiError } from '../../core/errors';
import { LanguageService } from '../../core/language.service';
import { costOf } from '../../shared/cost';
import { download, fileStem } from '../../shared/download';
import { formatCost, formatCount, formatTime } from '../../shared/format';
import { IconComponent } from '../../shared/icon.component';
import { MarkdownComponent } from '../../shared/markdown/markdown.component';
import { JobsStore, isLive } from './jobs.store';

/** One job opened in the list: its facts, error or result, and what can be done with it. */
@Component({
  selector: 'div[sbJobDetail]',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, TranslatePipe, IconComponent, MarkdownComponent],
  styleUrl: './job-detail.component.scss',
  template: `
    @let j = job();
    <dl class="facts">
      <dt>{{ 'jobs.id' | translate }}</dt><dd><code>{{ j.id }}</code></dd>
      @if (j.progress !== undefined && live()) {
        <dt>{{ 'jobs.progressLabel' | translate }}</dt><dd>{{ j.progress }}%</dd>
      }
      @if (j.usage) {
        <dt>{{ 'jobs.tokens' | translate }}</dt>
        <dd data-testid="job-usage">{{ 'chat.usage' | translate: { input: fmt(j.usage.inputTokens), output: fmt(j.usage.outputTokens) } }}</dd>
        @if (costText(); as cost) {
          <dt>{{ 'jobs.cost' | translate }}</dt><dd data-testid="job-cost">{{ cost }}</dd>
        }
      }
      @if (j.finishedAt) {
        <dt>{{ 'jobs.finished' | translate }}</dt><dd>{{ time(j.finishedAt) }}</dd>
      }
    </dl>
    @if (j.error) {
      <p class="error" role="alert" data-testid="job-error">{{ j.error.message }}</p>
    }
    @if (j.result) {
      <div class="result" data-testid="job-result"><sb-markdown [text]="j.result.summary" /></div>
    }
    <div class="actions">
      @if (j.result) {
        <button mat-stroked-button type="button" (click)="copy()" data-testid="job-copy">
          <sb-icon name="copy" /> {{ 'jobs.copy' | translate }}
        </button>
        <button mat-stroked-button type="button" (click)="save()" data-testid="job-download">
          <sb-icon name="download" /> {{ 'jobs.download' | translate }}
        </button>
      }
      @if (live()) {
        <button mat-stroked-button type="button" class="danger" (click)="cancel()" [disabled]="cancelling()"
                data-testid="job-cancel">
          <sb-icon name="stop" /> {{ 'jobs.cancel' | translate }}
        </button>
      }
    </div>
  `,
})
export class JobDetailComponent {
  readonly job = input.required<Job>();
  readonly models = input<PublicModel[]>([]);

  private readonly store = inject(JobsStore);
  private readonly lang = inject(LanguageService);
  private readonly snack = inject(MatSnackBar);
  protected readonly cancelling = signal(false);

  protected live(): boolean {
    return isLive(this.job());
  }

  protected fmt(n: number): string {
    return formatCount(n, this.lang.current());
  }

  protected time(iso: string): string {
    return formatTime(iso, this.lang.current());
  }

  /** Dollars at the catalog's prices of the job's model. */
  protected costText(): string | null {
    const j = this.job();
    const cost = costOf(j.usage ?? null, this.models().find((m) => m.id === j.modelId));
    return cost === null ? null : formatCost(cost, this.lang.current());
  }

  protected async cancel(): Promise<void> {
    this.cancelling.set(true);
    try {
      await this.store.cancel(this.job().id);
    } catch (err) {
      const e = toUiError(err);
      const key = e.code === 'conflict' || e.code === 'http_409' ? 'jobs.alreadyFinished' : errorKey(e);
      this.snack.open(this.lang.instant(key), undefined, { duration: 4000 });
    } finally {
      this.cancelling.set(false);
    }
  }

  protected async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.job().result?.summary ?? '');
      this.snack.open(this.lang.instant('chat.copied'), undefined, { duration: 2000 });
    } catch {
      this.snack.open(this.lang.instant('errors.generic'), undefined, { duration: 3000 });
    }
  }

  protected save(): void {
    const j = this.job();
    const name = j.name || this.store.labels()[j.id] || this.lang.instant('jobs.untitled');
    const heading = `# ${this.lang.instant('jobs.summaryOf', { name })}\n\n`;
    download(`${fileStem(`summary-${name.slice(0, 60)}`)}.md`, 'text/markdown;charset=utf-8', heading + (j.result?.summary ?? ''));
  }
}
