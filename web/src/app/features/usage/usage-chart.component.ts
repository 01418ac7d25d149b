import { ChangeDetectionStrategy, Component, DestroyRef, ElementRef, afterRenderEffect, computed, inject, input, viewChild } from '@angular/core';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { LanguageService } from '../../core/language.service';
import { ThemeService } from '../../core/theme.service';
import { formatCost } from '../../shared/format';
import type { ChartData } from './usage-series';

// Only what a stacked bar chart needs (Chart.js is tree-shaken to these).
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

/** Series colours with enough contrast on the light and on the dark surface, told apart by hue. */
const palettes = {
  light: ['#1f5fbf', '#c2410c', '#0f7b4b', '#8a3ab9', '#a16207', '#4b5563'],
  dark: ['#8ab4f8', '#fdba74', '#6ee7b7', '#d8b4fe', '#fde047', '#cbd5e1'],
} as const;

/**
 * Spend per day as stacked bars (Chart.js on a canvas: no inline script or eval, so it runs under
 * the portal's CSP). The canvas is an image with a summary for screen readers; the page shows the
 * same numbers as a table.
 */
@Component({
  selector: 'sb-usage-chart',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="box"><canvas #canvas role="img" [attr.aria-label]="label()" data-testid="usage-chart-canvas"></canvas></div>`,
  styles: `
    :host { display: block; }
    .box { position: relative; height: 320px; }
    @media (max-width: 600px) { .box { height: 240px; } }
  `,
})
export class UsageChartComponent {
  readonly data = input.required<ChartData>();
  /** Display names of the series' keys (model names, "Other"). */
  readonly names = input.required<(key: string) => string>();
  /** The canvas' accessible description. */
  readonly label = input.required<string>();

  private readonly canvas = viewChild.required<ElementRef<HTMLCanvasElement>>('canvas');
  private readonly theme = inject(ThemeService).theme;
  private readonly lang = inject(LanguageService).current;
  private chart: Chart<'bar', number[], string> | null = null;
  private readonly dayFormat = computed(() => new Intl.DateTimeFormat(this.lang(), { month: 'short', day: 'numeric', timeZone: 'UTC' }));

  constructor() {
    inject(DestroyRef).onDestroy(() => this.chart?.destroy());
    afterRenderEffect(() => this.draw());
  }

  private draw(): void {
    const data = this.data();
    const names = this.names();
    const lang = this.lang();
    const theme = this.theme();
    const colors = palettes[theme];
    const text = resolvedColor(this.canvas().nativeElement, '--mat-sys-on-surface-variant');
    const grid = resolvedColor(this.canvas().nativeElement, '--mat-sys-outline-variant');
    const fmt = this.dayFormat();
    const labels = data.days.map((d) => fmt.format(new Date(`${d}T00:00:00Z`)));
    const datasets = data.series.map((s, i) => ({
      label: names(s.key),
      data: s.values,
      backgroundColor: colors[i % colors.length]!,
      borderWidth: 0,
      stack: 'spend',
      maxBarThickness: 36,
    }));
    const money = (v: number | string) => formatCost(Number(v), lang);

    this.chart?.destroy();
    this.chart = new Chart(this.canvas().nativeElement, {
      type: 'bar',
      data: { labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: lang,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: true, ticks: { color: text, autoSkip: true, maxRotation: 0 }, grid: { display: false }, border: { color: grid } },
          y: { stacked: true, beginAtZero: true, ticks: { color: text, callback: money }, grid: { color: grid }, border: { display: false } },
        },
        plugins: {
          legend: { position: 'bottom', labels: { color: text, boxWidth: 12, boxHeight: 12 } },
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(c.parsed.y ?? 0)}` } },
        },
      },
    });
  }
}

/**
 * A theme token as a colour the canvas understands: Material's tokens are `light-dark(…)`
 * expressions, which only CSS resolves, so a probe element inherits the page's colour scheme.
 */
function resolvedColor(near: HTMLElement, token: string): string {
  const probe = document.createElement('span');
  probe.style.color = `var(${token})`;
  probe.style.display = 'none';
  near.parentElement!.appendChild(probe);
  const color = getComputedStyle(probe).color;
  probe.remove();
  return color;
}
