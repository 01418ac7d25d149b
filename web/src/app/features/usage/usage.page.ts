import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatButtonToggleModule } from '@angular/material/button-toggle';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { MatSnackBar, MatSnackBarModule } from '@angular/material/snack-bar';
import type { PublicModel } from '@switchboard/contracts';
import { TranslatePipe } from '@ngx-translate/core';
import { ApiService } from '../../core/api.service';
import { errorKey, toUiError } from '../../core/errors';
import { LanguageService } from '../../core/language.service';
import { download } from '../../shared/download';
import { formatCost, formatCount } from '../../shared/format';
import { IconComponent } from '../../shared/icon.component';
import { UsageChartComponent } from './usage-chart.component';
import { OTHER_KEY, type RangeProblem, checkRange, defaultRange } from './usage-series';
import { type ChartBy, type TableBy, UsageStore } from './usage.store';

/** Admins: what was spent, per day by model or group, and who spent most, over a range of days. */
@Component({
  selector: 'sb-usage-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  providers: [UsageStore],
  imports: [FormsModule, MatButtonModule, MatButtonToggleModule, MatFormFieldModule, MatInputModule, MatProgressBarModule, MatSelectModule, MatSnackBarModule, TranslatePipe, IconComponent, UsageChartComponent],
  styleUrl: './usage.page.scss',
  template: `
    <div class="page">
      <section class="card head" aria-labelledby="usage-heading">
        <h1 id="usage-heading">{{ 'usage.title' | translate }}</h1>
        <form class="range" (ngSubmit)="apply()" data-testid="usage-range" novalidate>
          <mat-form-field appearance="outline">
            <mat-label>{{ 'usage.from' | translate }}</mat-label>
            <input matInput type="date" name="from" [(ngModel)]="from" data-testid="usage-from" />
          </mat-form-field>
          <mat-form-field appearance="outline">
            <mat-label>{{ 'usage.to' | translate }}</mat-label>
            <input matInput type="date" name="to" [(ngModel)]="to" data-testid="usage-to" />
          </mat-form-field>
          <button mat-flat-button type="submit" data-testid="usage-apply">{{ 'usage.apply' | translate }}</button>
        </form>
        @if (rangeProblem(); as p) {
          <p class="error" role="alert" data-testid="usage-range-error">{{ 'usage.range.' + p | translate: { max: 366 } }}</p>
        }
        @if (store.error(); as error) {
          <p class="error" role="alert" data-testid="usage-error">{{ error | translate }}
            <button mat-button (click)="store.load()">{{ 'common.retry' | translate }}</button></p>
        }
        <dl class="totals" data-testid="usage-totals">
          <div><dt>{{ 'usage.totalCost' | translate }}</dt><dd data-testid="usage-total-cost">{{ cost(store.total().costUsd) }}</dd></div>
          <div><dt>{{ 'usage.calls' | translate }}</dt><dd>{{ count(store.total().calls) }}</dd></div>
          <div><dt>{{ 'usage.inputTokens' | translate }}</dt><dd>{{ count(store.total().inputTokens) }}</dd></div>
          <div><dt>{{ 'usage.outputTokens' | translate }}</dt><dd>{{ count(store.total().outputTokens) }}</dd></div>
        </dl>
      </section>

      <section class="card chart" aria-labelledby="chart-heading">
        <div class="section-head">
          <h2 id="chart-heading">{{ 'usage.chartTitle' | translate }}</h2>
          <mat-button-toggle-group [value]="store.chartBy()" (change)="chartBy($event.value)" hideSingleSelectionIndicator
                                   [attr.aria-label]="'usage.chartBy' | translate" data-testid="usage-chart-by">
            <mat-button-toggle value="model" data-testid="usage-chart-by-model">{{ 'usage.by.model' | translate }}</mat-button-toggle>
            <mat-button-toggle value="group" data-testid="usage-chart-by-group">{{ 'usage.by.group' | translate }}</mat-button-toggle>
          </mat-button-toggle-group>
        </div>
        @if (store.loading()) {
          <mat-progress-bar mode="indeterminate" [attr.aria-label]="'common.loading' | translate" />
        }
        @if (store.chart().series.length) {
          <sb-usage-chart data-testid="usage-chart" [attr.data-series]="store.chart().series.length"
                          [data]="store.chart()" [names]="names()" [label]="chartLabel()" />
          @if (store.chartBy() === 'group') {
            <p class="note">{{ 'usage.groupNote' | translate }}</p>
          }
          <details class="data">
            <summary>{{ 'usage.chartData' | translate }}</summary>
            <div class="scroll">
              <table data-testid="usage-chart-table">
                <thead><tr><th scope="col">{{ 'usage.day' | translate }}</th>
                  @for (s of store.chart().series; track s.key) { <th scope="col">{{ names()(s.key) }}</th> }</tr></thead>
                <tbody>
                  @for (d of store.chart().days; track d; let i = $index) {
                    <tr><th scope="row">{{ d }}</th>
                      @for (s of store.chart().series; track s.key) { <td>{{ cost(s.values[i]!) }}</td> }</tr>
                  }
                </tbody>
              </table>
            </div>
          </details>
        } @else if (!store.loading()) {
          <p class="empty" data-testid="usage-chart-empty">{{ 'usage.noData' | translate }}</p>
        }
      </section>

      <section class="card table" aria-labelledby="top-heading">
        <div class="section-head">
          <h2 id="top-heading">{{ 'usage.topTitle' | translate }}</h2>
          <div class="tools">
            <mat-form-field appearance="outline" class="by" subscriptSizing="dynamic">
              <mat-label>{{ 'usage.groupBy' | translate }}</mat-label>
              <mat-select [value]="store.tableBy()" (selectionChange)="tableBy($event.value)" data-testid="usage-table-by">
                @for (b of tableBys; track b) {
                  <mat-option [value]="b" [attr.data-value]="b">{{ 'usage.by.' + b | translate }}</mat-option>
                }
              </mat-select>
            </mat-form-field>
            <button mat-stroked-button (click)="downloadCsv()" [disabled]="!store.range() || downloading()" data-testid="usage-csv">
              <sb-icon name="download" /> {{ 'usage.csv' | translate }}
            </button>
          </div>
        </div>
        @if (store.top().length) {
          <div class="scroll">
            <table data-testid="usage-top">
              <thead>
                <tr>
                  <th scope="col">{{ 'usage.by.' + store.tableBy() | translate }}</th>
                  <th scope="col" class="num">{{ 'usage.calls' | translate }}</th>
                  <th scope="col" class="num">{{ 'usage.inputTokens' | translate }}</th>
                  <th scope="col" class="num">{{ 'usage.outputTokens' | translate }}</th>
                  <th scope="col" class="num">{{ 'usage.cost' | translate }}</th>
                </tr>
              </thead>
              <tbody>
                @for (r of store.top(); track r.key) {
                  <tr data-testid="usage-top-row" [attr.data-key]="r.key">
                    <th scope="row" class="key">{{ names()(r.key) }}</th>
                    <td class="num">{{ count(r.calls) }}</td>
                    <td class="num">{{ count(r.inputTokens) }}</td>
                    <td class="num">{{ count(r.outputTokens) }}</td>
                    <td class="num" data-testid="usage-top-cost">{{ cost(r.costUsd) }}</td>
                  </tr>
                }
              </tbody>
            </table>
          </div>
        } @else if (!store.loading()) {
          <p class="empty" data-testid="usage-top-empty">{{ 'usage.noData' | translate }}</p>
        }
      </section>
    </div>
  `,
})
export class UsagePage {
  protected readonly store = inject(UsageStore);
  private readonly lang = inject(LanguageService);
  private readonly snack = inject(MatSnackBar);
  protected readonly tableBys: TableBy[] = ['user', 'group', 'client', 'model'];
  private readonly models = signal<PublicModel[]>([]);
  protected readonly downloading = signal(false);
  protected readonly rangeProblem = signal<RangeProblem | null>(null);
  protected from: string;
  protected to: string;

  /** Model ids as their catalog names (when the admin's catalog lists them), "Other" for the rest. */
  protected readonly names = computed(() => {
    const byId = new Map(this.models().map((m) => [m.id, m.name]));
    this.lang.current();
    const other = this.lang.instant('usage.other');
    return (key: string) => (key === OTHER_KEY ? other : (byId.get(key) ?? key));
  });

  protected readonly chartLabel = computed(() => {
    const r = this.store.range();
    const names = this.names();
    const top = this.store.chart().series.slice(0, 3).map((s) => `${names(s.key)} ${this.cost(s.total)}`).join(', ');
    return r ? this.lang.instant('usage.chartLabel', { from: r.from, to: r.to, total: this.cost(this.store.total().costUsd), top }) : '';
  });

  constructor() {
    const r = defaultRange(new Date());
    this.from = r.from;
    this.to = r.to;
    this.store.range.set(r);
    void this.store.load();
    void inject(ApiService).models().then((m) => this.models.set(m)).catch(() => undefined);
  }

  protected apply(): void {
    const problem = checkRange(this.from, this.to);
    this.rangeProblem.set(problem);
    if (problem) return;
    this.store.range.set({ from: this.from, to: this.to });
    void this.store.load();
  }

  protected chartBy(by: ChartBy): void {
    this.store.chartBy.set(by);
    void this.store.loadChart();
  }

  protected tableBy(by: TableBy): void {
    this.store.tableBy.set(by);
    void this.store.loadTable();
  }

  protected async downloadCsv(): Promise<void> {
    const r = this.store.range();
    if (!r) return;
    this.downloading.set(true);
    try {
      download(`usage-${this.store.tableBy()}-${r.from}-${r.to}.csv`, 'text/csv', await this.store.csv());
    } catch (err) {
      this.snack.open(this.lang.instant(errorKey(toUiError(err))), undefined, { duration: 4000 });
    } finally {
      this.downloading.set(false);
    }
  }

  protected cost(v: number): string {
    return formatCost(v, this.lang.current());
  }

  protected count(v: number): string {
    return formatCount(v, this.lang.current());
  }
}
