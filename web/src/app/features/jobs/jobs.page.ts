import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { FormControl, FormGroup, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { MatSnackBar, MatSnackBarModule } from '@angular/material/snack-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { Job, JobDocument, PublicModel, SummarizeRequest } from '@switchboard/contracts';
import { TranslatePipe } from '@ngx-translate/core';
import { ApiService } from '../../core/api.service';
import { errorKey, toUiError } from '../../core/errors';
import { LanguageService } from '../../core/language.service';
import { IconComponent } from '../../shared/icon.component';
import { ListStatusComponent } from '../../shared/list-status.component';
import { costOf } from '../../shared/cost';
import { download, fileStem } from '../../shared/download';
import { blobToBase64 } from '../../shared/files';
import { formatCost, formatCount } from '../../shared/format';
import { MarkdownComponent } from '../../shared/markdown/markdown.component';
import { JobsStore, isLive } from './jobs.store';

/** Mirrors jobLimits in @switchboard/contracts (not imported: that module pulls in zod). */
const limits = {
  maxTextChars: 20_000_000,
  maxDocuments: 20,
  maxDocumentBase64Chars: Math.ceil((25 * 1024 * 1024 * 4) / 3),
  maxInstructionsChars: 4000,
  minWords: 10,
  maxWords: 5000,
};
const formats: Record<string, JobDocument['format']> = {
  pdf: 'pdf', txt: 'txt', md: 'md', markdown: 'md', csv: 'csv', html: 'html', htm: 'html', docx: 'docx',
};

type PickedFile = { id: string; name: string; size: number; doc: JobDocument };

let counter = 0;

@Component({
  selector: 'sb-jobs-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  providers: [JobsStore],
  imports: [
    ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatProgressBarModule, MatSelectModule,
    MatSnackBarModule, MatTooltipModule, TranslatePipe, IconComponent, ListStatusComponent, MarkdownComponent,
  ],
  styleUrl: './jobs.page.scss',
  template: `
    <div class="page">
      <section class="card new" aria-labelledby="new-job-heading">
        <h1 id="new-job-heading">{{ 'jobs.newTitle' | translate }}</h1>
        <p class="hint">{{ 'jobs.newHint' | translate }}</p>
        <form [formGroup]="form" (ngSubmit)="submit()" data-testid="job-form" novalidate>
          <mat-form-field appearance="outline" class="full">
            <mat-label>{{ 'jobs.text' | translate }}</mat-label>
            <textarea matInput formControlName="text" rows="6" data-testid="job-text"></textarea>
          </mat-form-field>
          <div class="files">
            <input #file type="file" hidden multiple data-testid="job-file-input"
                   accept=".pdf,.txt,.md,.markdown,.csv,.html,.htm,.docx,application/pdf,text/plain,text/markdown,text/csv,text/html"
                   (change)="picked(file)" />
            <button mat-stroked-button type="button" (click)="file.click()" data-testid="job-attach">
              <sb-icon name="attach" /> {{ 'jobs.addFiles' | translate }}
            </button>
            <span class="hint">{{ 'jobs.formats' | translate }}</span>
          </div>
          @if (files().length) {
            <ul class="chips" [attr.aria-label]="'jobs.files' | translate">
              @for (f of files(); track f.id) {
                <li class="chip" data-testid="job-file">
                  <span class="name">{{ f.name }}</span>
                  <button mat-icon-button type="button" class="small" (click)="removeFile(f.id)"
                          [attr.aria-label]="'attach.remove' | translate: { name: f.name }">
                    <sb-icon name="close" />
                  </button>
                </li>
              }
            </ul>
          }
          @if (fileProblem()) {
            <p class="error" role="alert" data-testid="job-file-error">{{ fileProblem()!.key | translate: fileProblem()!.params }}</p>
          }
          <div class="row">
            <mat-form-field appearance="outline" class="grow">
              <mat-label>{{ 'chat.model' | translate }}</mat-label>
              <mat-select formControlName="modelId" data-testid="job-model">
                @for (m of models(); track m.id) {
                  <mat-option [value]="m.id" [attr.data-model-id]="m.id">{{ m.name }}</mat-option>
                }
              </mat-select>
            </mat-form-field>
            <mat-form-field appearance="outline" class="words">
              <mat-label>{{ 'jobs.maxWords' | translate }}</mat-label>
              <input matInput type="number" formControlName="maxWords" [min]="limits.minWords" [max]="limits.maxWords"
                     inputmode="numeric" data-testid="job-max-words" />
              @if (form.controls.maxWords.invalid) {
                <mat-error data-testid="job-max-words-error">{{ 'jobs.maxWordsRange' | translate: { min: limits.minWords, max: limits.maxWords } }}</mat-error>
              }
            </mat-form-field>
          </div>
          <mat-form-field appearance="outline" class="full">
            <mat-label>{{ 'jobs.instructions' | translate }}</mat-label>
            <textarea matInput formControlName="instructions" rows="2" data-testid="job-instructions"
                      [placeholder]="'jobs.instructionsPlaceholder' | translate"></textarea>
            @if (form.controls.instructions.invalid) {
              <mat-error>{{ 'jobs.instructionsTooLong' | translate: { max: limits.maxInstructionsChars } }}</mat-error>
            }
          </mat-form-field>
          @if (formError()) {
            <p class="error" role="alert" data-testid="job-form-error">{{ formError()! | translate }}</p>
          }
          <button mat-flat-button type="submit" [disabled]="submitting()" data-testid="job-submit">
            {{ 'jobs.submit' | translate }}
          </button>
        </form>
      </section>

      <section class="card list" aria-labelledby="jobs-heading">
        <div class="list-head">
          <h2 id="jobs-heading">{{ 'jobs.heading' | translate }}</h2>
          <button mat-button type="button" (click)="store.load()" data-testid="jobs-refresh">{{ 'jobs.refresh' | translate }}</button>
        </div>
        <sb-list-status [store]="store" />
        <ul class="jobs" data-testid="job-list">
          @for (j of store.items(); track j.id) {
            <li class="job" data-testid="job-item" [attr.data-id]="j.id" [attr.data-status]="j.status" [class.open]="openId() === j.id">
              <button type="button" class="job-head" (click)="toggle(j.id)" [attr.aria-expanded]="openId() === j.id"
                      [attr.aria-controls]="'job-' + j.id" data-testid="job-toggle">
                <span class="label" data-testid="job-name">{{ j.name || store.labels()[j.id] || ('jobs.untitled' | translate) }}</span>
                <span class="status status-{{ j.status }}" data-testid="job-status">{{ 'jobs.status.' + j.status | translate }}</span>
                <span class="when">{{ time(j.createdAt) }}</span>
              </button>
              @if (live(j)) {
                <mat-progress-bar [mode]="j.status === 'active' && j.progress !== undefined ? 'determinate' : 'indeterminate'"
                                  [value]="j.progress ?? 0" data-testid="job-progress"
                                  [attr.aria-label]="'jobs.progress' | translate: { percent: j.progress ?? 0 }" />
              }
              @if (openId() === j.id) {
                <div class="detail" [id]="'job-' + j.id" data-testid="job-detail">
                  <dl class="facts">
                    <dt>{{ 'jobs.id' | translate }}</dt><dd><code>{{ j.id }}</code></dd>
                    @if (j.progress !== undefined && live(j)) {
                      <dt>{{ 'jobs.progressLabel' | translate }}</dt><dd>{{ j.progress }}%</dd>
                    }
                    @if (j.usage) {
                      <dt>{{ 'jobs.tokens' | translate }}</dt>
                      <dd data-testid="job-usage">{{ 'chat.usage' | translate: { input: fmt(j.usage.inputTokens), output: fmt(j.usage.outputTokens) } }}</dd>
                      @if (costText(j); as cost) {
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
                      <button mat-stroked-button type="button" (click)="copy(j)" data-testid="job-copy">
                        <sb-icon name="copy" /> {{ 'jobs.copy' | translate }}
                      </button>
                      <button mat-stroked-button type="button" (click)="save(j)" data-testid="job-download">
                        <sb-icon name="download" /> {{ 'jobs.download' | translate }}
                      </button>
                    }
                    @if (live(j)) {
                      <button mat-stroked-button type="button" class="danger" (click)="cancel(j)" [disabled]="cancelling().has(j.id)"
                              data-testid="job-cancel">
                        <sb-icon name="stop" /> {{ 'jobs.cancel' | translate }}
                      </button>
                    }
                  </div>
                </div>
              }
            </li>
          } @empty {
            @if (!store.loading()) {
              <li class="empty" data-testid="jobs-empty">{{ 'jobs.empty' | translate }}</li>
            }
          }
        </ul>
        @if (store.nextCursor()) {
          <button mat-button (click)="store.loadMore()" [disabled]="store.loading()" data-testid="jobs-more">{{ 'conversations.loadMore' | translate }}</button>
        }
      </section>
    </div>
    <span class="visually-hidden" role="status" aria-live="polite">{{ announcement() }}</span>
  `,
})
export class JobsPage {
  protected readonly store = inject(JobsStore);
  private readonly api = inject(ApiService);
  private readonly lang = inject(LanguageService);
  private readonly snack = inject(MatSnackBar);
  protected readonly limits = limits;

  protected readonly models = signal<PublicModel[]>([]);
  protected readonly files = signal<PickedFile[]>([]);
  protected readonly fileProblem = signal<{ key: string; params: Record<string, string | number> } | null>(null);
  protected readonly formError = signal<string | null>(null);
  protected readonly submitting = signal(false);
  protected readonly openId = signal<string | null>(null);
  protected readonly cancelling = signal<ReadonlySet<string>>(new Set());
  /** Kept across retries of one submission, so a retry after a lost answer cannot create a second job. */
  private idempotencyKey: string | null = null;

  protected readonly form = new FormGroup({
    text: new FormControl('', { nonNullable: true, validators: [Validators.maxLength(limits.maxTextChars)] }),
    modelId: new FormControl<string | null>(null),
    maxWords: new FormControl<number | null>(null, [Validators.min(limits.minWords), Validators.max(limits.maxWords), Validators.pattern(/^\d+$/)]),
    instructions: new FormControl('', { nonNullable: true, validators: [Validators.maxLength(limits.maxInstructionsChars)] }),
  });

  protected readonly announcement = computed(() => {
    const open = this.store.items().find((j) => j.id === this.openId());
    return open ? this.lang.instant(`jobs.status.${open.status}`) : '';
  });

  constructor() {
    void this.store.load();
    void this.api.models().then((models) => {
      this.models.set(models);
      this.form.controls.modelId.setValue((models.find((m) => m.default) ?? models[0])?.id ?? null);
    }).catch(() => undefined);
    this.form.valueChanges.subscribe(() => {
      this.idempotencyKey = null;
      this.formError.set(null);
    });
  }

  protected live(j: Job): boolean {
    return isLive(j);
  }

  protected fmt(n: number): string {
    return formatCount(n, this.lang.current());
  }

  protected time(iso: string): string {
    return new Intl.DateTimeFormat(this.lang.current(), { dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso));
  }

  protected toggle(id: string): void {
    this.openId.update((open) => (open === id ? null : id));
  }

  protected async picked(input: HTMLInputElement): Promise<void> {
    const list = Array.from(input.files ?? []);
    input.value = '';
    this.fileProblem.set(null);
    const added: PickedFile[] = [];
    for (const f of list) {
      const ext = f.name.includes('.') ? f.name.slice(f.name.lastIndexOf('.') + 1).toLowerCase() : '';
      const format = formats[ext];
      if (!format) {
        this.fileProblem.set({ key: 'jobs.unsupported', params: { name: f.name } });
        continue;
      }
      if (this.files().length + added.length >= limits.maxDocuments) {
        this.fileProblem.set({ key: 'jobs.tooManyFiles', params: { max: limits.maxDocuments } });
        break;
      }
      const data = await blobToBase64(f);
      if (data.length > limits.maxDocumentBase64Chars) {
        this.fileProblem.set({ key: 'jobs.fileTooLarge', params: { name: f.name } });
        continue;
      }
      added.push({ id: `f-${++counter}`, name: f.name, size: f.size, doc: { name: f.name.slice(0, 200), format, data } });
    }
    if (added.length) {
      this.files.update((files) => [...files, ...added]);
      this.idempotencyKey = null;
      this.formError.set(null);
    }
  }

  protected removeFile(id: string): void {
    this.files.update((files) => files.filter((f) => f.id !== id));
    this.idempotencyKey = null;
  }

  protected async submit(): Promise<void> {
    this.form.markAllAsTouched();
    const v = this.form.getRawValue();
    const text = v.text.trim();
    if (!text && !this.files().length) {
      this.formError.set('jobs.needInput');
      return;
    }
    if (this.form.invalid) return;
    const body: SummarizeRequest = {
      ...(text ? { text } : {}),
      ...(this.files().length ? { documents: this.files().map((f) => f.doc) } : {}),
      ...(v.modelId ? { modelId: v.modelId } : {}),
      ...(v.instructions.trim() ? { instructions: v.instructions.trim() } : {}),
      ...(v.maxWords ? { maxWords: Number(v.maxWords) } : {}),
    };
    const label = text ? text.replace(/\s+/g, ' ').slice(0, 80) : this.files().map((f) => f.name).join(', ').slice(0, 80);
    this.idempotencyKey ??= crypto.randomUUID();
    this.submitting.set(true);
    this.formError.set(null);
    try {
      const job = await this.store.submit(body, this.idempotencyKey, label);
      this.idempotencyKey = null;
      this.form.reset({ text: '', modelId: v.modelId, maxWords: v.maxWords, instructions: v.instructions });
      this.files.set([]);
      // An old file-type (or size) complaint is about files that are gone now.
      this.fileProblem.set(null);
      this.openId.set(job.id);
      this.snack.open(this.lang.instant('jobs.submitted'), undefined, { duration: 2500 });
    } catch (err) {
      this.formError.set(errorKey(toUiError(err)));
    } finally {
      this.submitting.set(false);
    }
  }

  protected async cancel(j: Job): Promise<void> {
    this.cancelling.update((s) => new Set(s).add(j.id));
    try {
      await this.store.cancel(j.id);
    } catch (err) {
      const e = toUiError(err);
      const key = e.code === 'conflict' || e.code === 'http_409' ? 'jobs.alreadyFinished' : errorKey(e);
      this.snack.open(this.lang.instant(key), undefined, { duration: 4000 });
    } finally {
      this.cancelling.update((s) => {
        const next = new Set(s);
        next.delete(j.id);
        return next;
      });
    }
  }

  protected async copy(j: Job): Promise<void> {
    const text = j.result?.summary ?? '';
    try {
      await navigator.clipboard.writeText(text);
      this.snack.open(this.lang.instant('chat.copied'), undefined, { duration: 2000 });
    } catch {
      this.snack.open(this.lang.instant('errors.generic'), undefined, { duration: 3000 });
    }
  }

  /** Dollars at the catalog's prices of the job's model. */
  protected costText(j: Job): string | null {
    const cost = costOf(j.usage ?? null, this.models().find((m) => m.id === j.modelId));
    return cost === null ? null : formatCost(cost, this.lang.current());
  }

  protected save(j: Job): void {
    const name = j.name || this.store.labels()[j.id] || this.lang.instant('jobs.untitled');
    const heading = `# ${this.lang.instant('jobs.summaryOf', { name })}\n\n`;
    download(`${fileStem(`summary-${name.slice(0, 60)}`)}.md`, 'text/markdown;charset=utf-8', heading + (j.result?.summary ?? ''));
  }
}
