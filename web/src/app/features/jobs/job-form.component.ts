import { ChangeDetectionStrategy, Component, effect, inject, input, output, signal, untracked, viewChild } from '@angular/core';
import { FormControl, FormGroup, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { MatSnackBar } from '@angular/material/snack-bar';
import type { PublicModel, SummarizeRequest } from '@switchboard/contracts';
import { jobLimits as limits } from '@switchboard/contracts/constants';
import { TranslatePipe } from '@ngx-translate/core';
import { errorKey, toUiError } from '../../core/errors';
import { LanguageService } from '../../core/language.service';
import { JobFilePickerComponent } from './job-file-picker.component';
import { JobsStore } from './jobs.store';

/** A new summarize job: text and/or documents, model, length and instructions. */
@Component({
  selector: 'section[sbJobForm]',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule, TranslatePipe, JobFilePickerComponent],
  styleUrl: './job-form.component.scss',
  template: `
    <h1 id="new-job-heading">{{ 'jobs.newTitle' | translate }}</h1>
    <p class="hint">{{ 'jobs.newHint' | translate }}</p>
    <form [formGroup]="form" (ngSubmit)="submit()" data-testid="job-form" novalidate>
      <mat-form-field appearance="outline" class="full">
        <mat-label>{{ 'jobs.text' | translate }}</mat-label>
        <textarea matInput formControlName="text" rows="6" data-testid="job-text"></textarea>
      </mat-form-field>
      <sb-job-file-picker (changed)="filesChanged($event)" />
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
  `,
})
export class JobFormComponent {
  readonly models = input<PublicModel[]>([]);
  /** The id of the job just created. */
  readonly submitted = output<string>();

  private readonly store = inject(JobsStore);
  private readonly lang = inject(LanguageService);
  private readonly snack = inject(MatSnackBar);
  private readonly picker = viewChild.required(JobFilePickerComponent);
  protected readonly limits = limits;
  protected readonly formError = signal<string | null>(null);
  protected readonly submitting = signal(false);
  /** Kept across retries of one submission, so a retry after a lost answer cannot create a second job. */
  private idempotencyKey: string | null = null;

  protected readonly form = new FormGroup({
    text: new FormControl('', { nonNullable: true, validators: [Validators.maxLength(limits.maxTextChars)] }),
    modelId: new FormControl<string | null>(null),
    maxWords: new FormControl<number | null>(null, [Validators.min(limits.minWords), Validators.max(limits.maxWords), Validators.pattern(/^\d+$/)]),
    instructions: new FormControl('', { nonNullable: true, validators: [Validators.maxLength(limits.maxInstructionsChars)] }),
  });

  constructor() {
    // The catalog's default model once the models are known.
    effect(() => {
      const models = this.models();
      if (!models.length) return;
      untracked(() => this.form.controls.modelId.setValue((models.find((m) => m.default) ?? models[0])?.id ?? null));
    });
    this.form.valueChanges.subscribe(() => {
      this.idempotencyKey = null;
      this.formError.set(null);
    });
  }

  protected filesChanged(change: 'added' | 'removed'): void {
    this.idempotencyKey = null;
    if (change === 'added') this.formError.set(null);
  }

  protected async submit(): Promise<void> {
    this.form.markAllAsTouched();
    const v = this.form.getRawValue();
    const text = v.text.trim();
    const picker = this.picker();
    const documents = picker.documents();
    if (!text && !documents.length) {
      this.formError.set('jobs.needInput');
      return;
    }
    if (this.form.invalid) return;
    const body: SummarizeRequest = {
      ...(text ? { text } : {}),
      ...(documents.length ? { documents } : {}),
      ...(v.modelId ? { modelId: v.modelId } : {}),
      ...(v.instructions.trim() ? { instructions: v.instructions.trim() } : {}),
      ...(v.maxWords ? { maxWords: Number(v.maxWords) } : {}),
    };
    const label = text ? text.replace(/\s+/g, ' ').slice(0, 80) : picker.files().map((f) => f.name).join(', ').slice(0, 80);
    this.idempotencyKey ??= crypto.randomUUID();
    this.submitting.set(true);
    this.formError.set(null);
    try {
      const job = await this.store.submit(body, this.idempotencyKey, label);
      this.idempotencyKey = null;
      this.form.reset({ text: '', modelId: v.modelId, maxWords: v.maxWords, instructions: v.instructions });
      picker.clear();
      this.submitted.emit(job.id);
      this.snack.open(this.lang.instant('jobs.submitted'), undefined, { duration: 2500 });
    } catch (err) {
      this.formError.set(errorKey(toUiError(err)));
    } finally {
      this.submitting.set(false);
    }
  }
}
