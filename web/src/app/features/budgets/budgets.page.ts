import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { FormControl, FormGroup, ReactiveFormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { MatSnackBar, MatSnackBarModule } from '@angular/material/snack-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { Budget, BudgetMode, BudgetPeriod, BudgetScope, PublicModel } from '@switchboard/contracts';
import { ApiService } from '../../core/api.service';
import { TranslatePipe } from '@ngx-translate/core';
import { errorKey, toUiError } from '../../core/errors';
import { LanguageService } from '../../core/language.service';
import { formatCost, formatCount } from '../../shared/format';
import { IconComponent } from '../../shared/icon.component';
import { ListStatusComponent } from '../../shared/list-status.component';
import {
  type BudgetFormErrors,
  type BudgetFormValue,
  budgetChanges,
  budgetFormLimits,
  budgetModes,
  budgetPeriods,
  budgetScopes,
  emptyBudgetForm,
  formFromBudget,
  readBudgetForm,
} from './budget-form';
import { BudgetsStore } from './budgets.store';
import { SharesComponent } from './shares.component';

/** Admins: who may spend how much — budgets per user, group or batch client, per day or month. */
@Component({
  selector: 'sb-budgets-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  providers: [BudgetsStore],
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule, MatSnackBarModule, MatTooltipModule, TranslatePipe, IconComponent, ListStatusComponent, SharesComponent],
  styleUrl: './budgets.page.scss',
  template: `
    <div class="page">
      <section class="card form-card" aria-labelledby="budget-form-heading">
        <h1 id="budget-form-heading">{{ (editing() ? 'budgets.editTitle' : 'budgets.newTitle') | translate }}</h1>
        <p class="hint">{{ 'budgets.hint' | translate }}</p>
        <form [formGroup]="form" (ngSubmit)="save()" data-testid="budget-form" novalidate>
          <div class="row">
            <mat-form-field appearance="outline" subscriptSizing="dynamic" class="grow">
              <mat-label>{{ 'budgets.scope' | translate }}</mat-label>
              <mat-select formControlName="scope" data-testid="budget-scope">
                @for (s of scopes; track s) {
                  <mat-option [value]="s" [attr.data-value]="s">{{ 'budgets.scopes.' + s | translate }}</mat-option>
                }
              </mat-select>
            </mat-form-field>
            <mat-form-field appearance="outline" subscriptSizing="dynamic" class="grow">
              <mat-label>{{ 'budgets.period' | translate }}</mat-label>
              <mat-select formControlName="period" data-testid="budget-period">
                @for (p of periods; track p) {
                  <mat-option [value]="p" [attr.data-value]="p">{{ 'budgets.periodOptions.' + p | translate }}</mat-option>
                }
              </mat-select>
            </mat-form-field>
          </div>
          <mat-form-field appearance="outline" subscriptSizing="dynamic" class="full">
            <mat-label>{{ 'budgets.subjects.' + scope() | translate }}</mat-label>
            <input matInput formControlName="subject" autocomplete="off" [maxlength]="limits.maxSubjectChars + 1" data-testid="budget-subject" />
            <mat-hint>{{ 'budgets.subjectHints.' + scope() | translate }}</mat-hint>
            @if (form.controls.subject.errors?.['budget']; as key) {
              <mat-error data-testid="budget-subject-error">{{ 'budgets.errors.' + key | translate: { max: limits.maxSubjectChars } }}</mat-error>
            }
          </mat-form-field>
          <div class="row">
            <mat-form-field appearance="outline" subscriptSizing="dynamic" class="grow">
              <mat-label>{{ 'budgets.limitUsd' | translate }}</mat-label>
              <span matTextPrefix>$&nbsp;</span>
              <input matInput type="number" inputmode="decimal" min="0" step="0.01" formControlName="limitUsd" data-testid="budget-limit-usd" />
              @if (form.controls.limitUsd.errors?.['budget']; as key) {
                <mat-error data-testid="budget-limit-usd-error">{{ 'budgets.errors.' + key | translate: { max: maxUsd() } }}</mat-error>
              }
            </mat-form-field>
            <mat-form-field appearance="outline" subscriptSizing="dynamic" class="grow">
              <mat-label>{{ 'budgets.limitTokens' | translate }}</mat-label>
              <input matInput type="number" inputmode="numeric" min="0" step="1" formControlName="limitTokens" data-testid="budget-limit-tokens" />
              @if (form.controls.limitTokens.errors?.['budget']; as key) {
                <mat-error data-testid="budget-limit-tokens-error">{{ 'budgets.errors.' + key | translate }}</mat-error>
              }
            </mat-form-field>
          </div>
          <mat-form-field appearance="outline" subscriptSizing="dynamic" class="full">
            <mat-label>{{ 'budgets.mode' | translate }}</mat-label>
            <mat-select formControlName="mode" data-testid="budget-mode">
              @for (m of modes; track m) {
                <mat-option [value]="m" [attr.data-value]="m">{{ 'budgets.modes.' + m | translate }}</mat-option>
              }
            </mat-select>
            <mat-hint>{{ 'budgets.modeHints.' + mode() | translate }}</mat-hint>
          </mat-form-field>
          @if (formError(); as error) {
            <p class="error" role="alert" data-testid="budget-form-error">{{ error | translate }}</p>
          }
          <div class="actions">
            <button mat-flat-button type="submit" [disabled]="saving()" data-testid="budget-save">
              {{ (editing() ? 'common.save' : 'budgets.create') | translate }}
            </button>
            @if (editing()) {
              <button mat-button type="button" (click)="resetForm()" data-testid="budget-cancel-edit">{{ 'common.cancel' | translate }}</button>
            }
          </div>
        </form>
      </section>

      <section class="card list-card" aria-labelledby="budgets-heading">
        <div class="list-head">
          <h2 id="budgets-heading">{{ 'budgets.listTitle' | translate }}</h2>
          <button mat-icon-button (click)="store.load()" data-testid="budgets-refresh"
                  [attr.aria-label]="'budgets.refresh' | translate" [matTooltip]="'budgets.refresh' | translate">
            <sb-icon name="refresh" />
          </button>
        </div>
        <sb-list-status [store]="store" />
        @if (!store.loading() && !store.error() && !store.items().length) {
          <p class="empty" data-testid="budgets-empty">{{ 'budgets.empty' | translate }}</p>
        }
        <ul class="items" data-testid="budget-list">
          @for (b of store.items(); track b.id) {
            <li class="item" data-testid="budget-item" [attr.data-id]="b.id" [attr.data-subject]="b.subject" [class.editing]="editing()?.id === b.id">
              <div class="what">
                <span class="scope">{{ 'budgets.scopes.' + b.scope | translate }}</span>
                <span class="subject" data-testid="budget-item-subject">{{ b.subject }}</span>
              </div>
              <div class="limits" data-testid="budget-item-limits">
                {{ limitText(b) }} <span class="per">/ {{ 'budgets.periods.' + b.period | translate }}</span>
              </div>
              <span class="mode" [attr.data-mode]="b.mode" data-testid="budget-item-mode">{{ 'budgets.modes.' + b.mode | translate }}</span>
              @if (confirming() === b.id) {
                <div class="confirm" role="group" [attr.aria-label]="'budgets.confirmDelete' | translate">
                  <span>{{ 'budgets.confirmDelete' | translate }}</span>
                  <button mat-flat-button class="danger" (click)="remove(b)" data-testid="budget-delete-confirm">{{ 'common.delete' | translate }}</button>
                  <button mat-button (click)="confirming.set(null)" data-testid="budget-delete-cancel">{{ 'common.cancel' | translate }}</button>
                </div>
              } @else {
                <div class="buttons">
                  <button mat-icon-button (click)="edit(b)" data-testid="budget-edit"
                          [attr.aria-label]="'budgets.editOne' | translate: { subject: b.subject }" [matTooltip]="'budgets.edit' | translate">
                    <sb-icon name="edit" />
                  </button>
                  <button mat-icon-button (click)="confirming.set(b.id)" data-testid="budget-delete"
                          [attr.aria-label]="'budgets.deleteOne' | translate: { subject: b.subject }" [matTooltip]="'common.delete' | translate">
                    <sb-icon name="delete" />
                  </button>
                </div>
              }
            </li>
          }
        </ul>
      </section>

      <section sbShares class="card shares" aria-labelledby="shares-heading" [models]="models()"></section>
    </div>
  `,
})
export class BudgetsPage {
  protected readonly store = inject(BudgetsStore);
  private readonly lang = inject(LanguageService);
  private readonly snack = inject(MatSnackBar);
  protected readonly scopes = budgetScopes;
  protected readonly periods = budgetPeriods;
  protected readonly modes = budgetModes;
  protected readonly limits = budgetFormLimits;

  protected readonly models = signal<PublicModel[]>([]);
  protected readonly editing = signal<Budget | null>(null);
  protected readonly confirming = signal<string | null>(null);
  protected readonly saving = signal(false);
  protected readonly formError = signal<string | null>(null);

  protected readonly form = new FormGroup({
    scope: new FormControl<BudgetScope>('user', { nonNullable: true }),
    subject: new FormControl('', { nonNullable: true }),
    period: new FormControl<BudgetPeriod>('month', { nonNullable: true }),
    limitUsd: new FormControl<string | number | null>(null),
    limitTokens: new FormControl<string | number | null>(null),
    mode: new FormControl<BudgetMode>('block', { nonNullable: true }),
  });
  private readonly value = signal<BudgetFormValue>(this.form.getRawValue());
  protected readonly scope = computed(() => this.value().scope);
  protected readonly mode = computed(() => this.value().mode);
  protected readonly maxUsd = computed(() => formatCost(budgetFormLimits.maxUsd, this.lang.current()));

  constructor() {
    void this.store.load();
    void inject(ApiService).models().then((m) => this.models.set(m)).catch(() => undefined);
    this.form.valueChanges.subscribe(() => {
      this.value.set(this.form.getRawValue());
      this.formError.set(null);
    });
  }

  protected limitText(b: Budget): string {
    const lang = this.lang.current();
    const parts: string[] = [];
    if (b.limitUsd !== undefined) parts.push(formatCost(b.limitUsd, lang));
    if (b.limitTokens !== undefined) parts.push(`${formatCount(b.limitTokens, lang)} ${this.lang.instant('budgets.tokenUnit')}`);
    return parts.join(' · ');
  }

  protected edit(b: Budget): void {
    this.editing.set(b);
    this.confirming.set(null);
    this.form.reset(formFromBudget(b));
    document.getElementById('budget-form-heading')?.scrollIntoView({ block: 'nearest' });
    document.querySelector<HTMLInputElement>('[data-testid="budget-subject"]')?.focus();
  }

  protected resetForm(): void {
    this.editing.set(null);
    this.form.reset(emptyBudgetForm());
    this.formError.set(null);
  }

  protected async save(): Promise<void> {
    const read = readBudgetForm(this.form.getRawValue());
    if (read.errors) {
      this.showErrors(read.errors);
      return;
    }
    const editing = this.editing();
    this.saving.set(true);
    this.formError.set(null);
    try {
      if (editing) {
        const patch = budgetChanges(editing, read.body);
        if (Object.keys(patch).length) await this.store.update(editing.id, patch);
      } else {
        await this.store.create(read.body);
      }
      this.snack.open(this.lang.instant(editing ? 'budgets.saved' : 'budgets.created'), undefined, { duration: 2500 });
      this.resetForm();
    } catch (err) {
      const e = toUiError(err);
      this.formError.set(
        e.code === 'validation_failed' || e.code === 'bad_request' ? 'budgets.errors.rejected'
        : e.code === 'conflict' ? 'budgets.errors.conflict'
        : errorKey(e),
      );
    } finally {
      this.saving.set(false);
    }
  }

  protected async remove(b: Budget): Promise<void> {
    try {
      await this.store.remove(b.id);
      if (this.editing()?.id === b.id) this.resetForm();
      this.snack.open(this.lang.instant('budgets.deleted'), undefined, { duration: 2500 });
    } catch (err) {
      this.snack.open(this.lang.instant(errorKey(toUiError(err))), undefined, { duration: 4000 });
    } finally {
      this.confirming.set(null);
    }
  }

  private showErrors(errors: BudgetFormErrors): void {
    const c = this.form.controls;
    for (const [field, control] of [['subject', c.subject], ['limitUsd', c.limitUsd], ['limitTokens', c.limitTokens]] as const) {
      const key = errors[field];
      if (key) {
        control.setErrors({ budget: key });
        control.markAsTouched();
      }
    }
    if (errors.limits) this.formError.set(`budgets.errors.${errors.limits}`);
    const first = errors.subject ? 'budget-subject' : errors.limitUsd || errors.limits ? 'budget-limit-usd' : 'budget-limit-tokens';
    document.querySelector<HTMLElement>(`[data-testid="${first}"]`)?.focus();
  }
}
