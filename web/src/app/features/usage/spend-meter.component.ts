import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { TranslatePipe } from '@ngx-translate/core';
import { LanguageService } from '../../core/language.service';
import { formatCost, formatCount } from '../../shared/format';
import { type BudgetSummary, barWidth, summarizeBudget } from './budget-meter';
import { MyUsageStore } from './my-usage.store';

/** One budget's bar: used share, warning from 80 %, over at 100 %. */
@Component({
  selector: 'sb-budget-bar',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: {
    role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100',
    '[attr.aria-valuenow]': 'valueNow()', '[attr.aria-valuetext]': 'summary().percent + " %"',
    '[attr.aria-label]': 'label()', '[attr.data-level]': 'summary().level', class: 'sb-budget-bar',
  },
  template: `<span class="fill" [style.width]="width()"></span>`,
  styles: `
    :host { display: block; height: 6px; border-radius: 3px; overflow: hidden; background: var(--mat-sys-surface-container-highest); outline: 1px solid var(--mat-sys-outline-variant); }
    .fill { display: block; height: 100%; background: var(--mat-sys-primary); }
    :host([data-level='warn']) .fill { background: light-dark(#8a6100, #ffd24d); }
    :host([data-level='over']) .fill { background: var(--mat-sys-error); }
  `,
})
export class BudgetBarComponent {
  readonly summary = input.required<BudgetSummary>();
  readonly label = input.required<string>();
  protected readonly width = computed(() => barWidth(this.summary().fraction));
  protected readonly valueNow = computed(() => Math.min(this.summary().percent, 100));
}

/** The user menu's spend section: this month's cost and every budget that applies, with what is left. */
@Component({
  selector: 'sb-spend-panel',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [TranslatePipe, BudgetBarComponent],
  // Inside the user menu: a menu may only own menu items, so each block is an informational
  // (disabled) item; screen readers read its text and the budget's meter.
  template: `
    @if (store.usage(); as usage) {
      <div role="menuitem" aria-disabled="true" class="block">
        <div class="head">
          <span>{{ 'usage.me.thisMonth' | translate }}</span>
          <strong data-testid="my-spend">{{ cost(usage.costUsd) }}</strong>
        </div>
        <div class="sub">{{ 'usage.me.tokens' | translate: { input: count(usage.inputTokens), output: count(usage.outputTokens) } }}</div>
      </div>
      @for (s of summaries(); track s.budget.id) {
        <div role="menuitem" aria-disabled="true" class="budget" data-testid="my-budget" [attr.data-level]="s.level" [attr.data-id]="s.budget.id">
          <div class="line">
            <span class="name">{{ scopeLabel(s) | translate: { subject: s.budget.subject } }} · {{ 'usage.me.period.' + s.budget.period | translate }}</span>
            <span class="pct">{{ s.percent }} %</span>
          </div>
          <sb-budget-bar [summary]="s" [label]="(scopeLabel(s) | translate: { subject: s.budget.subject })" />
          <div class="line small">
            <span>{{ usedText(s) }}</span>
            <span>{{ 'usage.me.remaining' | translate: { value: remainingText(s) } }}</span>
          </div>
          @if (s.level !== 'ok') {
            <div class="note" [attr.data-level]="s.level" data-testid="my-budget-note">
              {{ ('usage.me.' + s.level + (s.budget.mode === 'block' ? 'Block' : 'Warn')) | translate: { date: date(s.budget.resetsAt) } }}
            </div>
          } @else {
            <div class="line small muted">{{ 'usage.me.resets' | translate: { date: date(s.budget.resetsAt) } }}</div>
          }
        </div>
      } @empty {
        <div role="menuitem" aria-disabled="true" class="sub block" data-testid="my-budget-none">{{ 'usage.me.noBudget' | translate }}</div>
      }
    } @else {
      <div role="menuitem" aria-disabled="true" class="sub block">{{ 'usage.me.unavailable' | translate }}</div>
    }
  `,
  styles: `
    :host { display: block; padding: 8px 16px 12px; min-width: 240px; max-width: 320px; border-bottom: 1px solid var(--mat-sys-outline-variant); }
    [role='menuitem'] { cursor: default; }
    .head { display: flex; justify-content: space-between; gap: 12px; font: var(--mat-sys-title-small); }
    .sub, .small { font: var(--mat-sys-body-small); color: var(--mat-sys-on-surface-variant); }
    .budget { margin-top: 12px; display: grid; gap: 4px; }
    .line { display: flex; justify-content: space-between; gap: 8px; }
    .name { font: var(--mat-sys-label-large); overflow-wrap: anywhere; }
    .pct { font: var(--mat-sys-label-large); white-space: nowrap; }
    .note { font: var(--mat-sys-body-small); padding: 4px 8px; border-radius: 6px; }
    .note[data-level='warn'] { background: light-dark(#ffe08a, #4a3600); color: light-dark(#3d2e00, #ffe08a); }
    .note[data-level='over'] { background: var(--mat-sys-error-container); color: var(--mat-sys-on-error-container); }
  `,
})
export class SpendPanelComponent {
  protected readonly store = inject(MyUsageStore);
  private readonly lang = inject(LanguageService);
  protected readonly summaries = computed(() =>
    (this.store.usage()?.budgets ?? []).map(summarizeBudget).sort((a, b) => b.fraction - a.fraction),
  );

  protected cost(v: number): string {
    return formatCost(v, this.lang.current());
  }

  protected count(v: number): string {
    return formatCount(v, this.lang.current());
  }

  protected date(iso: string): string {
    return new Intl.DateTimeFormat(this.lang.current(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
  }

  protected scopeLabel(s: BudgetSummary): string {
    return `usage.me.scope.${s.budget.scope}`;
  }

  protected usedText(s: BudgetSummary): string {
    const b = s.budget;
    const parts: string[] = [];
    if (b.limitUsd !== undefined) parts.push(`${this.cost(b.spentUsd)} / ${this.cost(b.limitUsd)}`);
    if (b.limitTokens !== undefined) parts.push(`${this.count(b.spentTokens)} / ${this.count(b.limitTokens)} ${this.lang.instant('usage.me.tokenUnit')}`);
    return parts.join(' · ');
  }

  protected remainingText(s: BudgetSummary): string {
    const parts: string[] = [];
    if (s.remainingUsd !== undefined) parts.push(this.cost(s.remainingUsd));
    if (s.remainingTokens !== undefined) parts.push(`${this.count(s.remainingTokens)} ${this.lang.instant('usage.me.tokenUnit')}`);
    return parts.join(' · ');
  }
}
