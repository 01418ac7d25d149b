import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { AbstractControl, FormControl, FormGroup, ReactiveFormsModule, ValidationErrors, ValidatorFn, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatButtonToggleModule } from '@angular/material/button-toggle';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { MAT_DIALOG_DATA, MatDialogModule, MatDialogRef } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { MatTabsModule } from '@angular/material/tabs';
import type { EffortLevel, ModelParams, Prompt, PublicModel } from '@switchboard/contracts';
import { TranslatePipe } from '@ngx-translate/core';
import { ApiService } from '../../core/api.service';
import { toUiError } from '../../core/errors';
import { LanguageService } from '../../core/language.service';
import { IconComponent } from '../../shared/icon.component';
import { selectableEffort, portalRules } from './model-rules';

export type SettingsDialogData = { systemPrompt: string | null; params: ModelParams; model: PublicModel | undefined };
export type SettingsDialogResult = { systemPrompt: string | null; params: ModelParams };

/** Empty field = unset (the server's default); otherwise a number in [min, max]. */
function range(min: number, max: () => number, integer: boolean): ValidatorFn {
  return (c: AbstractControl): ValidationErrors | null => {
    const v = c.value as number | string | null;
    if (v === null || v === '') return null;
    const n = Number(v);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) return { number: { integer } };
    if (n < min || n > max()) return { range: { min, max: max() } };
    return null;
  };
}

const num = (v: number | string | null | undefined): number | undefined => (v === null || v === undefined || v === '' ? undefined : Number(v));

/** Per-conversation system prompt (with preset prompts) and model parameters, checked against the model's limits. */
@Component({
  selector: 'sb-conversation-settings',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [
    ReactiveFormsModule,
    MatDialogModule,
    MatButtonModule,
    MatButtonToggleModule,
    MatCheckboxModule,
    MatFormFieldModule,
    MatInputModule,
    MatSelectModule,
    MatTabsModule,
    TranslatePipe,
    IconComponent,
  ],
  styles: `
    .full { width: 100%; }
    .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 4px 12px; }
    .hint { font: var(--mat-sys-body-small); color: var(--mat-sys-on-surface-variant); margin: 4px 0 12px; }
    .prompts { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column; gap: 6px; max-height: 40vh; overflow-y: auto; }
    .prompt { border: 1px solid var(--mat-sys-outline-variant); border-radius: 10px; padding: 8px 10px; }
    .prompt-head { display: flex; align-items: center; gap: 6px; }
    .prompt-title { font: var(--mat-sys-title-small); flex: 1; min-width: 0; }
    .prompt-text { font: var(--mat-sys-body-small); color: var(--mat-sys-on-surface-variant); margin: 2px 0 0;
      display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
    .tags { display: flex; gap: 4px; flex-wrap: wrap; margin-top: 4px; }
    .tag { font: var(--mat-sys-label-small); padding: 1px 6px; border-radius: 8px; background: var(--mat-sys-secondary-container); color: var(--mat-sys-on-secondary-container); }
    .mine { font: var(--mat-sys-label-small); color: var(--mat-sys-primary); }
    .save-row { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; }
    .save-row mat-form-field { flex: 1 1 200px; }
    .error { color: var(--mat-sys-error); }
    .tab { padding-top: 12px; }
    .rule { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 12px; margin-bottom: 8px; }
    .option-hint { font: var(--mat-sys-body-small); color: var(--mat-sys-on-surface-variant); margin-left: 8px; }
    @media (max-width: 600px) { .tabs { --mat-tab-container-height: 44px; } .tabs ::ng-deep .mdc-tab { padding: 0 10px; min-width: 0; } }
  `,
  template: `
    <form [formGroup]="form" (ngSubmit)="save()" novalidate>
      <h2 mat-dialog-title>{{ 'settings.title' | translate }}</h2>
      <mat-dialog-content>
        <mat-tab-group class="tabs" mat-stretch-tabs="false" animationDuration="0ms" [selectedIndex]="tab()" (selectedIndexChange)="tab.set($event)">
          <mat-tab [label]="'settings.systemPromptTab' | translate">
            <div class="tab">
              <mat-form-field appearance="outline" class="full">
                <mat-label>{{ 'settings.systemPrompt' | translate }}</mat-label>
                <textarea matInput formControlName="systemPrompt" rows="5" data-testid="settings-system-prompt"></textarea>
                @if (form.controls.systemPrompt.invalid) { <mat-error>{{ 'settings.systemPromptTooLong' | translate }}</mat-error> }
              </mat-form-field>
              <mat-form-field appearance="outline" class="full" subscriptSizing="dynamic">
                <mat-label>{{ 'prompts.search' | translate }}</mat-label>
                <input matInput type="search" [value]="query()" (input)="query.set($any($event.target).value)" data-testid="prompt-search" />
              </mat-form-field>
              @if (promptsError()) { <p class="error" role="alert" data-testid="prompts-error">{{ promptsError()! | translate }}</p> }
              <ul class="prompts" data-testid="prompt-list" [attr.aria-label]="'prompts.heading' | translate">
                @for (p of filtered(); track p.id) {
                  <li class="prompt" data-testid="prompt-item" [attr.data-id]="p.id" [attr.data-owner]="p.owner">
                    <div class="prompt-head">
                      <span class="prompt-title">{{ p.title }}</span>
                      @if (p.owner === 'me') { <span class="mine">{{ 'prompts.mine' | translate }}</span> }
                      <button mat-button type="button" (click)="apply(p)" data-testid="prompt-apply"
                              [attr.aria-label]="'prompts.applyNamed' | translate: { title: p.title }">{{ 'prompts.apply' | translate }}</button>
                      @if (p.owner === 'me') {
                        <button mat-icon-button type="button" (click)="edit(p)" data-testid="prompt-edit"
                                [attr.aria-label]="'prompts.editNamed' | translate: { title: p.title }"><sb-icon name="edit" /></button>
                        <button mat-icon-button type="button" (click)="remove(p)" data-testid="prompt-delete"
                                [attr.aria-label]="'prompts.deleteNamed' | translate: { title: p.title }"><sb-icon name="delete" /></button>
                      }
                    </div>
                    <p class="prompt-text">{{ p.systemPrompt }}</p>
                    @if (p.tags.length) {
                      <div class="tags">@for (t of p.tags; track t) { <span class="tag">{{ t }}</span> }</div>
                    }
                  </li>
                } @empty {
                  <li class="hint">{{ (promptsLoading() ? 'common.loading' : 'prompts.none') | translate }}</li>
                }
              </ul>
              <div class="save-row">
                <mat-form-field appearance="outline" subscriptSizing="dynamic">
                  <mat-label>{{ 'prompts.titleLabel' | translate }}</mat-label>
                  <input matInput [formControl]="promptTitle" maxlength="200" data-testid="prompt-title" />
                </mat-form-field>
                <button mat-stroked-button type="button" (click)="savePrompt()" data-testid="prompt-save"
                        [disabled]="!promptTitle.value.trim() || !form.controls.systemPrompt.value.trim()">
                  {{ (editingId() ? 'prompts.update' : 'prompts.saveMine') | translate }}
                </button>
                @if (editingId()) {
                  <button mat-button type="button" (click)="stopEditing()">{{ 'common.cancel' | translate }}</button>
                }
              </div>
            </div>
          </mat-tab>
          <mat-tab [label]="'settings.paramsTab' | translate">
            <div class="tab">
              <p class="hint">{{ 'settings.paramsHint' | translate: { model: data.model?.name ?? '' } }}</p>
              @if (rules.thinking) {
                <div class="rule">
                  <mat-checkbox [checked]="thinking()" (change)="thinking.set($event.checked)" data-testid="param-thinking">
                    {{ 'settings.thinking' | translate }}
                  </mat-checkbox>
                  <span class="hint" data-testid="thinking-hint">{{ thinkingHint | translate: { model: data.model?.name ?? '' } }}</span>
                </div>
              }
              @if (effortChoices.length) {
                <mat-form-field appearance="outline" class="full">
                  <mat-label>{{ 'settings.effort' | translate }}</mat-label>
                  <mat-select formControlName="effort" canSelectNullableOptions data-testid="param-effort">
                    <mat-select-trigger>{{ effortName(form.controls.effort.value) | translate }}</mat-select-trigger>
                    @for (level of effortChoices; track level) {
                      <mat-option [value]="level" [attr.data-testid]="'effort-' + (level ?? 'default')">
                        {{ effortName(level) | translate }}
                        <span class="option-hint">{{ 'settings.effortLevelHint.' + (level ?? 'default') | translate: { level: (effortName(defaultEffort) | translate).toLowerCase() } }}</span>
                      </mat-option>
                    }
                  </mat-select>
                  <mat-hint>{{ 'settings.effortHint' | translate }}</mat-hint>
                </mat-form-field>
              }
              @if (!rules.sampling) {
                <p class="hint" data-testid="no-sampling-hint">{{ 'settings.noSamplingHint' | translate: { model: data.model?.name ?? '' } }}</p>
              }
              @if (rules.sampling && rules.exclusiveSampling && !thinking()) {
                <div class="rule">
                  <span id="sampling-label">{{ 'settings.sampling' | translate }}</span>
                  <mat-button-toggle-group [value]="sampling()" (change)="sampling.set($event.value)" aria-labelledby="sampling-label"
                                           data-testid="param-sampling" hideSingleSelectionIndicator>
                    <mat-button-toggle value="temperature" data-testid="sampling-temperature">{{ 'settings.temperature' | translate }}</mat-button-toggle>
                    <mat-button-toggle value="topP" data-testid="sampling-topP">{{ 'settings.topP' | translate }}</mat-button-toggle>
                  </mat-button-toggle-group>
                  <span class="hint">{{ 'settings.samplingHint' | translate: { model: data.model?.name ?? '' } }}</span>
                </div>
              }
              <div class="grid">
                @for (f of visibleFields(); track f.key) {
                  <mat-form-field appearance="outline">
                    <mat-label>{{ 'settings.' + f.key | translate }}</mat-label>
                    <input matInput type="number" [formControlName]="f.key" [attr.step]="f.step" [attr.data-testid]="'param-' + f.key"
                           [placeholder]="'settings.default' | translate" />
                    @let e = form.controls[f.key].errors;
                    @if (e?.['range']) {
                      <mat-error [attr.data-testid]="'param-error-' + f.key">{{ 'settings.range' | translate: e!['range'] }}</mat-error>
                    } @else if (e?.['number']) {
                      <mat-error [attr.data-testid]="'param-error-' + f.key">{{ (e!['number'].integer ? 'settings.integer' : 'settings.number') | translate }}</mat-error>
                    } @else if (e?.['compress']) {
                      <mat-error [attr.data-testid]="'param-error-' + f.key">{{ 'settings.compressRange' | translate: e!['compress'] }}</mat-error>
                    } @else {
                      <mat-hint>{{ 'settings.' + f.key + 'Hint' | translate: limitsText() }}</mat-hint>
                    }
                  </mat-form-field>
                }
              </div>
            </div>
          </mat-tab>
        </mat-tab-group>
        @if (error()) { <p class="error" role="alert" data-testid="settings-error">{{ error()! | translate }}</p> }
      </mat-dialog-content>
      <mat-dialog-actions align="end">
        <button mat-button type="button" mat-dialog-close data-testid="settings-cancel">{{ 'common.cancel' | translate }}</button>
        <button mat-flat-button type="submit" data-testid="settings-save">{{ 'common.save' | translate }}</button>
      </mat-dialog-actions>
    </form>
  `,
})
export class ConversationSettingsDialog {
  protected readonly data = inject<SettingsDialogData>(MAT_DIALOG_DATA);
  private readonly ref = inject(MatDialogRef<ConversationSettingsDialog, SettingsDialogResult>);
  private readonly api = inject(ApiService);
  private readonly lang = inject(LanguageService);

  private readonly maxOut = () => this.data.model?.maxOutputTokens ?? 128_000;
  private readonly context = () => this.data.model?.contextWindow ?? 1_000_000;
  /** What Bedrock accepts from the model: only valid choices are shown. */
  protected readonly rules = portalRules(this.data.model);
  private readonly topKRange = this.rules.topK || { min: 0, max: 500 };
  private readonly thinkMin = this.rules.thinking ? this.rules.thinking.minBudget : 1024;
  /** Exclusive sampling: which one of temperature / top P (a stored pair shows temperature, as the worker sends it). */
  protected readonly sampling = signal<'temperature' | 'topP'>(
    this.data.params.topP !== undefined && this.data.params.temperature === undefined ? 'topP' : 'temperature',
  );
  /** null first: "Default" sends nothing, so the model uses its own level. */
  protected readonly effortChoices: (EffortLevel | null)[] = this.rules.effort ? [null, ...this.rules.effort.levels] : [];
  /** What the model uses when no level is chosen (shown beside Default). */
  protected readonly defaultEffort: EffortLevel = this.rules.effort ? this.rules.effort.default : 'high';
  protected readonly thinking = signal(!!this.rules.thinking && !!this.data.params.thinkingBudget);
  protected readonly thinkingHint = this.rules.alwaysThinks
    ? 'settings.alwaysThinkingHint'
    : this.rules.thinkingMode === 'adaptive'
      ? 'settings.adaptiveThinkingHint'
      : 'settings.thinkingHint';
  protected readonly fields = [
    { key: 'temperature', step: 0.1 },
    { key: 'topP', step: 0.05 },
    { key: 'topK', step: 1 },
    { key: 'thinkingBudget', step: 1024 },
    { key: 'maxTokens', step: 1 },
    { key: 'historyMessages', step: 1 },
    { key: 'compressThreshold', step: 500 },
  ] as const;
  protected readonly visibleFields = computed(() => this.fields.filter((f) => this.shown(f.key)));
  protected readonly limitsText = computed(() => ({
    maxOut: this.maxOut(),
    context: this.context(),
    topKMin: this.topKRange.min,
    topKMax: this.topKRange.max,
    thinkMin: this.thinkMin,
    thinkMax: this.maxOut() - 1,
  }));

  protected readonly form = new FormGroup({
    systemPrompt: new FormControl(this.data.systemPrompt ?? '', { nonNullable: true, validators: [Validators.maxLength(20_000)] }),
    temperature: new FormControl<number | null>(this.data.params.temperature ?? null, range(0, () => 1, false)),
    topP: new FormControl<number | null>(this.data.params.topP ?? null, range(0, () => 1, false)),
    topK: new FormControl<number | null>(this.data.params.topK ?? null, range(this.topKRange.min, () => this.topKRange.max, true)),
    thinkingBudget: new FormControl<number | null>(this.data.params.thinkingBudget ?? (this.rules.thinking ? this.thinkMin : null), [
      range(this.thinkMin, () => this.maxOut() - 1, true),
    ]),
    effort: new FormControl<EffortLevel | null>(selectableEffort(this.rules, this.data.params.effort)),
    maxTokens: new FormControl<number | null>(this.data.params.maxTokens ?? null, range(1, this.maxOut, true)),
    historyMessages: new FormControl<number | null>(this.data.params.historyMessages ?? null, range(1, () => 200, true)),
    compressThreshold: new FormControl<number | null>(this.data.params.compressThreshold ?? null, (c) => {
      const base = range(0, () => this.context() - 1, true)(c);
      if (base) return base;
      const n = num(c.value as number | null);
      return n !== undefined && n !== 0 && n < 500 ? { compress: { max: this.context() - 1 } } : null;
    }),
  });

  protected readonly tab = signal(0);
  protected readonly error = signal<string | null>(null);
  protected readonly prompts = signal<Prompt[]>([]);
  protected readonly promptsLoading = signal(true);
  protected readonly promptsError = signal<string | null>(null);
  protected readonly query = signal('');
  protected readonly editingId = signal<string | null>(null);
  protected readonly promptTitle = new FormControl('', { nonNullable: true });
  protected readonly filtered = computed(() => {
    const q = this.query().trim().toLowerCase();
    const all = this.prompts();
    if (!q) return all;
    return all.filter((p) => [p.title, p.systemPrompt, ...p.tags].some((s) => s.toLowerCase().includes(q)));
  });

  constructor() {
    void this.loadPrompts();
  }

  private async loadPrompts(): Promise<void> {
    this.promptsLoading.set(true);
    try {
      const lang = this.lang.promptLocale();
      this.prompts.set(await this.api.listPrompts(lang));
      this.promptsError.set(null);
    } catch (err) {
      this.promptsError.set(toUiError(err).message);
    } finally {
      this.promptsLoading.set(false);
    }
  }

  protected apply(p: Prompt): void {
    this.form.controls.systemPrompt.setValue(p.systemPrompt);
    this.form.controls.systemPrompt.markAsDirty();
  }

  protected edit(p: Prompt): void {
    this.editingId.set(p.id);
    this.promptTitle.setValue(p.title);
    this.form.controls.systemPrompt.setValue(p.systemPrompt);
  }

  protected stopEditing(): void {
    this.editingId.set(null);
    this.promptTitle.setValue('');
  }

  protected async savePrompt(): Promise<void> {
    const title = this.promptTitle.value.trim();
    const systemPrompt = this.form.controls.systemPrompt.value;
    if (!title || !systemPrompt.trim()) return;
    try {
      const id = this.editingId();
      const saved = id
        ? await this.api.updatePrompt(id, { title, systemPrompt })
        : await this.api.createPrompt({ title, systemPrompt, tags: [], locale: this.lang.promptLocale() });
      this.prompts.update((list) => (id ? list.map((p) => (p.id === id ? saved : p)) : [saved, ...list]));
      this.stopEditing();
      this.promptsError.set(null);
    } catch (err) {
      this.promptsError.set(toUiError(err).message);
    }
  }

  protected async remove(p: Prompt): Promise<void> {
    if (!confirm(this.lang.instant('prompts.confirmDelete', { title: p.title }))) return;
    try {
      await this.api.deletePrompt(p.id);
      this.prompts.update((list) => list.filter((x) => x.id !== p.id));
      if (this.editingId() === p.id) this.stopEditing();
    } catch (err) {
      this.promptsError.set(toUiError(err).message);
    }
  }

  protected effortName(level: EffortLevel | null): string {
    return level ? `settings.effortLevel.${level}` : 'settings.default';
  }

  /** Whether a parameter applies to this model with the current choices. */
  private shown(key: (typeof this.fields)[number]['key']): boolean {
    const thinking = this.thinking();
    switch (key) {
      case 'temperature':
        return this.rules.sampling && !thinking && (!this.rules.exclusiveSampling || this.sampling() === 'temperature');
      case 'topP':
        // With thinking Bedrock takes top P from 0.95 only: left to its default.
        return this.rules.sampling && !thinking && (!this.rules.exclusiveSampling || this.sampling() === 'topP');
      case 'topK':
        return this.rules.sampling && !thinking && !!this.rules.topK;
      case 'thinkingBudget':
        return thinking;
      default:
        return true;
    }
  }

  protected save(): void {
    this.form.markAllAsTouched();
    // Hidden fields are not sent, so only the shown ones must be valid.
    const invalid = this.form.controls.systemPrompt.invalid || this.fields.some((f) => this.shown(f.key) && this.form.controls[f.key].invalid);
    if (invalid) {
      // Show the tab that holds the first error.
      if (this.form.controls.systemPrompt.valid) this.tab.set(1);
      this.error.set('settings.fixErrors');
      return;
    }
    const v = this.form.getRawValue();
    const params: ModelParams = {};
    const set = <K extends keyof ModelParams>(k: K, value: ModelParams[K] | undefined) => {
      if (value !== undefined) params[k] = value;
    };
    // Only what applies is sent: a hidden field's value is left out.
    if (this.shown('temperature')) set('temperature', num(v.temperature));
    if (this.shown('topP')) set('topP', num(v.topP));
    if (this.shown('topK')) set('topK', num(v.topK));
    if (this.shown('thinkingBudget')) set('thinkingBudget', num(v.thinkingBudget));
    // Default, or a model without effort: left out like any unset field (the saved params replace the stored ones).
    set('effort', selectableEffort(this.rules, v.effort) ?? undefined);
    set('maxTokens', num(v.maxTokens));
    set('historyMessages', num(v.historyMessages));
    set('compressThreshold', num(v.compressThreshold));
    this.ref.close({ systemPrompt: v.systemPrompt.trim() ? v.systemPrompt : null, params });
  }
}
