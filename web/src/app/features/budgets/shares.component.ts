import { ChangeDetectionStrategy, Component, computed, inject, input, signal } from '@angular/core';
import { FormControl, FormGroup, ReactiveFormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { MatSnackBar } from '@angular/material/snack-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { PublicModel, Share, ShareScope } from '@switchboard/contracts';
import { TranslatePipe } from '@ngx-translate/core';
import { errorKey, toUiError } from '../../core/errors';
import { LanguageService } from '../../core/language.service';
import { UsageApiService } from '../../core/usage-api.service';
import { IconComponent } from '../../shared/icon.component';
import { type ShareFormErrors, emptyShareForm, readShareForm, shareScopes } from './share-form';

/** Admins: guaranteed and maximum shares of a model's quota for a group or a batch client. */
@Component({
  selector: 'section[sbShares]',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule, MatTooltipModule, TranslatePipe, IconComponent],
  template: `
    <h2 id="shares-heading">{{ 'shares.title' | translate }}</h2>
    <p class="hint">{{ 'shares.hint' | translate }}</p>
    @if (error(); as e) {
      <p class="error" role="alert">{{ e | translate }}</p>
    }
    <ul class="items" data-testid="share-list">
      @for (s of items(); track s.id) {
        <li class="item" data-testid="share-item" [attr.data-id]="s.id" [attr.data-subject]="s.subject">
          <div class="what">
            <span class="scope">{{ 'budgets.scopes.' + s.scope | translate }}</span>
            <span class="subject">{{ s.subject }}</span>
          </div>
          <div class="limits" data-testid="share-item-bounds">
            {{ modelName(s.modelId) }} ·
            @if (s.minPercent !== undefined) { {{ 'shares.atLeast' | translate: { value: s.minPercent } }} }
            @if (s.minPercent !== undefined && s.maxPercent !== undefined) { · }
            @if (s.maxPercent !== undefined) { {{ 'shares.atMost' | translate: { value: s.maxPercent } }} }
          </div>
          <button mat-icon-button class="remove" (click)="remove(s)" data-testid="share-delete"
                  [attr.aria-label]="'shares.deleteOne' | translate: { subject: s.subject }" [matTooltip]="'common.delete' | translate">
            <sb-icon name="delete" />
          </button>
        </li>
      } @empty {
        <li class="empty" data-testid="shares-empty">{{ 'shares.empty' | translate }}</li>
      }
    </ul>
    <form [formGroup]="form" (ngSubmit)="save()" data-testid="share-form" novalidate>
      <div class="row">
        <mat-form-field appearance="outline" subscriptSizing="dynamic" class="grow">
          <mat-label>{{ 'budgets.scope' | translate }}</mat-label>
          <mat-select formControlName="scope" data-testid="share-scope">
            @for (s of scopes; track s) {
              <mat-option [value]="s" [attr.data-value]="s">{{ 'budgets.scopes.' + s | translate }}</mat-option>
            }
          </mat-select>
        </mat-form-field>
        <mat-form-field appearance="outline" subscriptSizing="dynamic" class="grow">
          <mat-label>{{ 'budgets.subjects.' + scope() | translate }}</mat-label>
          <input matInput formControlName="subject" autocomplete="off" data-testid="share-subject" />
          @if (form.controls.subject.errors?.['share']; as key) {
            <mat-error>{{ 'shares.errors.' + key | translate }}</mat-error>
          }
        </mat-form-field>
      </div>
      <mat-form-field appearance="outline" subscriptSizing="dynamic" class="full">
        <mat-label>{{ 'shares.model' | translate }}</mat-label>
        <mat-select formControlName="modelId" data-testid="share-model">
          <mat-option value="" data-value="">{{ 'shares.everyModel' | translate }}</mat-option>
          @for (m of models(); track m.id) {
            <mat-option [value]="m.id" [attr.data-value]="m.id">{{ m.name }}</mat-option>
          }
        </mat-select>
      </mat-form-field>
      <div class="row">
        <mat-form-field appearance="outline" subscriptSizing="dynamic" class="grow">
          <mat-label>{{ 'shares.minPercent' | translate }}</mat-label>
          <input matInput type="number" inputmode="decimal" min="0" max="100" formControlName="minPercent" data-testid="share-min" />
          <span matTextSuffix>&nbsp;%</span>
          @if (form.controls.minPercent.errors?.['share']; as key) {
            <mat-error data-testid="share-min-error">{{ 'shares.errors.' + key | translate }}</mat-error>
          }
        </mat-form-field>
        <mat-form-field appearance="outline" subscriptSizing="dynamic" class="grow">
          <mat-label>{{ 'shares.maxPercent' | translate }}</mat-label>
          <input matInput type="number" inputmode="decimal" min="0" max="100" formControlName="maxPercent" data-testid="share-max" />
          <span matTextSuffix>&nbsp;%</span>
          @if (form.controls.maxPercent.errors?.['share']; as key) {
            <mat-error>{{ 'shares.errors.' + key | translate }}</mat-error>
          }
        </mat-form-field>
      </div>
      @if (formError(); as e) {
        <p class="error" role="alert" data-testid="share-form-error">{{ e | translate }}</p>
      }
      <button mat-stroked-button type="submit" [disabled]="saving()" data-testid="share-save">{{ 'shares.create' | translate }}</button>
    </form>
  `,
  styles: `
    :host { display: block; }
    form { max-width: 760px; }
    h2 { font: var(--mat-sys-title-large); margin: 0 0 4px; }
    .hint { font: var(--mat-sys-body-medium); color: var(--mat-sys-on-surface-variant); margin: 0 0 12px; }
    .error { color: var(--mat-sys-error); font: var(--mat-sys-body-medium); }
    .items { list-style: none; margin: 0 0 16px; padding: 0; display: grid; gap: 8px; }
    .item {
      display: grid; grid-template-columns: minmax(0, 1fr) auto; grid-template-areas: 'what remove' 'limits remove'; align-items: center;
      gap: 2px 12px; padding: 8px 8px 8px 14px; border-radius: 12px;
      background: var(--mat-sys-surface-container); border: 1px solid var(--mat-sys-outline-variant);
    }
    .what { grid-area: what; display: flex; gap: 8px; align-items: baseline; min-width: 0; }
    .scope { font: var(--mat-sys-label-medium); color: var(--mat-sys-on-surface-variant); text-transform: uppercase; letter-spacing: .04em; }
    .subject { font: var(--mat-sys-title-small); overflow-wrap: anywhere; }
    .limits { grid-area: limits; font: var(--mat-sys-body-medium); }
    .remove { grid-area: remove; }
    .empty { color: var(--mat-sys-on-surface-variant); font: var(--mat-sys-body-medium); }
    .row { display: flex; gap: 12px; flex-wrap: wrap; }
    .grow { flex: 1 1 160px; min-width: 0; }
    .full { width: 100%; }
    mat-form-field { margin-bottom: 12px; }
  `,
})
export class SharesComponent {
  readonly models = input<PublicModel[]>([]);
  private readonly api = inject(UsageApiService);
  private readonly lang = inject(LanguageService);
  private readonly snack = inject(MatSnackBar);
  protected readonly scopes = shareScopes;
  protected readonly items = signal<Share[]>([]);
  protected readonly error = signal<string | null>(null);
  protected readonly formError = signal<string | null>(null);
  protected readonly saving = signal(false);
  protected readonly form = new FormGroup({
    scope: new FormControl<ShareScope>('group', { nonNullable: true }),
    subject: new FormControl('', { nonNullable: true }),
    modelId: new FormControl('', { nonNullable: true }),
    minPercent: new FormControl<string | number | null>(null),
    maxPercent: new FormControl<string | number | null>(null),
  });
  private readonly scopeValue = signal<ShareScope>('group');
  protected readonly scope = computed(() => this.scopeValue());

  constructor() {
    void this.load();
    this.form.valueChanges.subscribe(() => {
      this.scopeValue.set(this.form.controls.scope.value);
      this.formError.set(null);
    });
  }

  protected modelName(id: string | undefined): string {
    if (!id) return this.lang.instant('shares.everyModel');
    return this.models().find((m) => m.id === id)?.name ?? id;
  }

  private async load(): Promise<void> {
    try {
      this.items.set(await this.api.listShares());
      this.error.set(null);
    } catch (err) {
      this.error.set(errorKey(toUiError(err)));
    }
  }

  protected async save(): Promise<void> {
    const read = readShareForm(this.form.getRawValue());
    if (read.errors) {
      this.showErrors(read.errors);
      return;
    }
    this.saving.set(true);
    try {
      const share = await this.api.createShare(read.body);
      this.items.update((items) => [...items, share]);
      this.form.reset(emptyShareForm());
      this.snack.open(this.lang.instant('shares.created'), undefined, { duration: 2500 });
    } catch (err) {
      const e = toUiError(err);
      this.formError.set(e.code === 'validation_failed' || e.code === 'bad_request' ? 'shares.errors.rejected' : errorKey(e));
    } finally {
      this.saving.set(false);
    }
  }

  protected async remove(s: Share): Promise<void> {
    try {
      await this.api.deleteShare(s.id);
    } catch (err) {
      if (toUiError(err).code !== 'not_found') {
        this.snack.open(this.lang.instant(errorKey(toUiError(err))), undefined, { duration: 4000 });
        return;
      }
    }
    this.items.update((items) => items.filter((i) => i.id !== s.id));
    this.snack.open(this.lang.instant('shares.deleted'), undefined, { duration: 2500 });
  }

  private showErrors(errors: ShareFormErrors): void {
    const c = this.form.controls;
    for (const [field, control] of [['subject', c.subject], ['minPercent', c.minPercent], ['maxPercent', c.maxPercent]] as const) {
      const key = errors[field];
      if (key) {
        control.setErrors({ share: key });
        control.markAsTouched();
      }
    }
    if (errors.bounds) this.formError.set(`shares.errors.${errors.bounds}`);
  }
}
