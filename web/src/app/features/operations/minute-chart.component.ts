import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import type { OpsMinute } from '@switchboard/contracts';

/**
 * The last hour of one model, one bar per minute: requests, with the per-minute quota as a dashed
 * line when the bars come near it; minutes with Bedrock throttles marked in the error color. Plain SVG (no chart
 * library); the figures are also in the card's text for screen readers.
 */
@Component({
  selector: 'sb-minute-chart',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'minute-chart' },
  styles: `
    :host { display: block; }
    svg { width: 100%; height: 56px; display: block; }
    .bar { fill: var(--mat-sys-primary); }
    .bar.throttled { fill: var(--mat-sys-error); }
    .quota { stroke: var(--mat-sys-outline); stroke-dasharray: 3 3; stroke-width: 1; }
    .base { stroke: var(--mat-sys-outline-variant); stroke-width: 1; }
  `,
  template: `
    <svg viewBox="0 0 240 56" preserveAspectRatio="none" role="img" [attr.aria-label]="label()">
      <line class="base" x1="0" y1="55.5" x2="240" y2="55.5" />
      @if (quotaY() !== null) {
        <line class="quota" x1="0" [attr.y1]="quotaY()" x2="240" [attr.y2]="quotaY()" />
      }
      @for (b of bars(); track b.x) {
        <rect class="bar" [class.throttled]="b.throttled" [attr.x]="b.x" [attr.y]="56 - b.h" width="3" [attr.height]="b.h" />
      }
    </svg>
  `,
})
export class MinuteChartComponent {
  readonly minutes = input.required<OpsMinute[]>();
  readonly quota = input.required<number>();
  readonly label = input('');

  /**
   * The scale follows the busiest minute (bars stay readable far below a large quota); the quota
   * line is drawn when it is within reach of the bars.
   */
  private readonly busiest = computed(() => Math.max(1, ...this.minutes().map((m) => m.requests)));
  private readonly top = computed(() => (this.quota() > 0 && this.quota() <= this.busiest() * 1.5 ? Math.max(this.quota(), this.busiest()) : this.busiest()));
  protected readonly quotaY = computed(() => (this.quota() > 0 && this.quota() <= this.top() ? 56 - (this.quota() / this.top()) * 54 : null));
  protected readonly bars = computed(() =>
    this.minutes().map((m, i) => ({
      x: i * 4,
      h: m.requests > 0 ? Math.max(1.5, (m.requests / this.top()) * 54) : 0,
      throttled: m.throttles > 0,
    })),
  );
}
