import { HttpClient } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { TranslatePipe } from '@ngx-translate/core';
import type { OpsModel } from '@switchboard/contracts';
import { queueDashboardPath } from '@switchboard/contracts/constants';
import { firstValueFrom } from 'rxjs';
import { LanguageService } from '../../core/language.service';
import { formatCount } from '../../shared/format';
import { MinuteChartComponent } from './minute-chart.component';
import { OpsFeed } from './ops-feed';

type ModelView = OpsModel & {
  rpmPct: number;
  tpmPct: number;
  throttles: number;
  deferrals: number;
  requestsHour: number;
  perMinuteQuota: number;
};

/**
 * Operations (admins): per model the quota used now and over the last hour, the backlog by lane,
 * Bedrock's 429s and back-offs, time to first token; the workers and API nodes alive; the job
 * waiting longest. Everything arrives pushed on the `/ops` socket.
 */
@Component({
  selector: 'sb-operations-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  providers: [OpsFeed],
  imports: [MatButtonModule, TranslatePipe, MinuteChartComponent],
  styleUrl: './operations.page.scss',
  template: `
    <div class="page">
      <header class="head">
        <h1>{{ 'ops.title' | translate }}</h1>
        <span class="live" [class]="'live state-' + feed.state()" data-testid="ops-state" role="status">
          {{ 'ops.state.' + feed.state() | translate }}
          @if (snap(); as s) { · {{ 'ops.updated' | translate: { time: time(s.at) } }} }
        </span>
        <span class="spacer"></span>
        @if (feed.state() !== 'forbidden') {
          <button mat-stroked-button type="button" data-testid="open-queue-dashboard" (click)="openDashboard()" [disabled]="opening()">
            {{ 'ops.queueDashboard' | translate }}
          </button>
        }
      </header>
      @if (dashboardError()) { <p class="error" role="alert">{{ dashboardError() }}</p> }

      @if (feed.state() === 'forbidden') {
        <p class="card empty wide" data-testid="ops-forbidden">{{ 'ops.forbidden' | translate }}</p>
      } @else if (snap(); as s) {
        <section class="card summary wide" aria-labelledby="ops-backlog-h">
          <h2 id="ops-backlog-h">{{ 'ops.backlog' | translate }}</h2>
          <div class="figures">
            <div class="figure"><span class="n" data-testid="ops-backlog-total">{{ n(backlog()) }}</span><span>{{ 'ops.jobsInQueue' | translate }}</span></div>
            <div class="figure"><span class="n" data-testid="ops-rpm-total">{{ n(requestsNow()) }}</span><span>{{ 'ops.requestsInWindow' | translate }}</span></div>
            <div class="figure">
              <span class="n" data-testid="ops-oldest">{{ s.oldestWaiting ? duration(s.oldestWaiting.waitingMs) : '—' }}</span>
              <span>{{ (s.oldestWaiting ? 'ops.oldestWaiting' : 'ops.nothingWaiting') | translate: { queue: s.oldestWaiting?.queue ?? '' } }}</span>
            </div>
          </div>
          <div class="table-wrap">
            <table class="grid" data-testid="ops-queues">
              <thead><tr>
                <th scope="col">{{ 'ops.lane' | translate }}</th><th scope="col">{{ 'ops.waiting' | translate }}</th>
                <th scope="col">{{ 'ops.delayed' | translate }}</th><th scope="col">{{ 'ops.active' | translate }}</th>
                <th scope="col">{{ 'ops.failed' | translate }}</th>
              </tr></thead>
              <tbody>
                @for (q of s.queues; track q.name) {
                  <tr [attr.data-testid]="'ops-queue-' + q.name">
                    <th scope="row">{{ 'ops.laneName.' + q.lane | translate }}</th>
                    <td>{{ n(q.waiting) }}</td><td>{{ n(q.delayed) }}</td><td>{{ n(q.active) }}</td><td>{{ n(q.failed) }}</td>
                  </tr>
                }
              </tbody>
            </table>
          </div>
        </section>

        <section class="card wide" aria-labelledby="ops-models-h">
          <h2 id="ops-models-h">{{ 'ops.models' | translate }}</h2>
          @if (busyModels().length === 0) {
            <p class="empty" data-testid="ops-models-empty">{{ 'ops.noTraffic' | translate }}</p>
          }
          <div class="models">
            @for (m of busyModels(); track m.id) {
              <article class="model" [attr.data-testid]="'ops-model'" [attr.data-model-id]="m.id">
                <header class="model-head">
                  <h3>{{ m.name }}</h3>
                  @if (m.blockedForMs > 0) {
                    <span class="chip warn" data-testid="ops-backoff">{{ 'ops.backingOff' | translate: { time: duration(m.blockedForMs) } }}</span>
                  }
                </header>
                <div class="meter">
                  <span class="meter-label">{{ 'ops.rpm' | translate }}</span>
                  <span class="meter-bar"><span [style.width.%]="m.rpmPct" [class.full]="m.rpmPct >= 100"></span></span>
                  <span class="meter-value" data-testid="ops-rpm-used">{{ n(m.window.requests) }} / {{ n(m.quota.requestsPerMinute) }}</span>
                </div>
                <div class="meter">
                  <span class="meter-label">{{ 'ops.tpm' | translate }}</span>
                  <span class="meter-bar"><span [style.width.%]="m.tpmPct" [class.full]="m.tpmPct >= 100"></span></span>
                  <span class="meter-value">{{ n(m.window.tokens) }} / {{ n(m.quota.tokensPerMinute) }}</span>
                </div>
                <sb-minute-chart [minutes]="m.history" [quota]="m.perMinuteQuota" [label]="'ops.chartLabel' | translate: { requests: n(m.requestsHour), throttles: n(m.throttles) }" />
                <dl class="facts">
                  <div><dt>{{ 'ops.waitingChats' | translate }}</dt><dd>{{ n(m.waiting.chat) }}</dd></div>
                  <div><dt>{{ 'ops.waitingBatch' | translate }}</dt><dd>{{ n(m.waiting.batch) }}</dd></div>
                  <div><dt>{{ 'ops.throttles' | translate }}</dt><dd data-testid="ops-throttles">{{ n(m.throttles) }}</dd></div>
                  <div><dt>{{ 'ops.deferrals' | translate }}</dt><dd>{{ n(m.deferrals) }}</dd></div>
                  <div><dt>{{ 'ops.ttft' | translate }}</dt>
                    <dd data-testid="ops-ttft">@if (m.ttft; as t) { {{ duration(t.p50Ms) }} / {{ duration(t.p95Ms) }} } @else { — }</dd></div>
                </dl>
              </article>
            }
          </div>
          @if (idleModels().length) {
            <p class="idle">{{ 'ops.idleModels' | translate: { names: idleModels() } }}</p>
          }
        </section>

        <section class="card" aria-labelledby="ops-workers-h">
          <h2 id="ops-workers-h">{{ 'ops.workers' | translate }} <span class="count">{{ s.workers.length }}</span></h2>
          @if (s.workers.length === 0) {
            <p class="empty warn-text" data-testid="ops-workers-empty">{{ 'ops.noWorkers' | translate }}</p>
          } @else {
            <div class="table-wrap">
              <table class="grid" data-testid="ops-workers">
                <thead><tr>
                  <th scope="col">{{ 'ops.worker' | translate }}</th><th scope="col">{{ 'ops.slots' | translate }}</th>
                  <th scope="col">{{ 'ops.streams' | translate }}</th><th scope="col">{{ 'ops.since' | translate }}</th>
                  <th scope="col">{{ 'ops.heartbeat' | translate }}</th><th scope="col">{{ 'ops.status' | translate }}</th>
                </tr></thead>
                <tbody>
                  @for (w of s.workers; track w.id) {
                    <tr data-testid="ops-worker" [attr.data-worker-id]="w.id">
                      <th scope="row"><span class="mono">{{ w.id }}</span></th>
                      <td>{{ n(w.slotsInUse) }} / {{ n(w.slots) }}</td>
                      <td>{{ n(w.streams) }}</td>
                      <td>{{ duration(s.at - w.since) }}</td>
                      <td>{{ 'ops.ago' | translate: { time: duration(s.at - w.lastHeartbeat) } }}</td>
                      <td>
                        <span class="chip" [class.warn]="w.draining">{{ (w.draining ? 'ops.draining' : 'ops.running') | translate }}</span>
                      </td>
                    </tr>
                  }
                </tbody>
              </table>
            </div>
          }
        </section>

        <section class="card" aria-labelledby="ops-api-h">
          <h2 id="ops-api-h">{{ 'ops.apiNodes' | translate }} <span class="count">{{ s.apiNodes.length }}</span></h2>
          <div class="table-wrap">
            <table class="grid" data-testid="ops-api-nodes">
              <thead><tr>
                <th scope="col">{{ 'ops.node' | translate }}</th><th scope="col">{{ 'ops.sockets' | translate }}</th>
                <th scope="col">{{ 'ops.watchedJobs' | translate }}</th><th scope="col">{{ 'ops.since' | translate }}</th>
              </tr></thead>
              <tbody>
                @for (a of s.apiNodes; track a.id) {
                  <tr><th scope="row"><span class="mono">{{ a.id }}</span></th><td>{{ n(a.sockets) }}</td><td>{{ n(a.watchedJobs) }}</td><td>{{ duration(s.at - a.since) }}</td></tr>
                }
              </tbody>
            </table>
          </div>
        </section>
      } @else {
        <p class="card empty wide" data-testid="ops-loading">{{ 'common.loading' | translate }}…</p>
      }
    </div>
  `,
})
export class OperationsPage {
  protected readonly feed = inject(OpsFeed);
  private readonly lang = inject(LanguageService);
  private readonly http = inject(HttpClient);
  protected readonly snap = this.feed.snapshot;
  protected readonly opening = signal(false);
  protected readonly dashboardError = signal<string | null>(null);

  private readonly models = computed<ModelView[]>(() => {
    const s = this.snap();
    if (!s) return [];
    const perWindow = 60_000 / s.windowMs;
    return s.models.map((m) => ({
      ...m,
      rpmPct: pct(m.window.requests, m.quota.requestsPerMinute),
      tpmPct: pct(m.window.tokens, m.quota.tokensPerMinute),
      throttles: m.history.reduce((sum, h) => sum + h.throttles, 0),
      deferrals: m.history.reduce((sum, h) => sum + h.deferrals, 0),
      requestsHour: m.history.reduce((sum, h) => sum + h.requests, 0),
      perMinuteQuota: m.quota.requestsPerMinute * perWindow,
    }));
  });
  /** Models with anything to show (used this hour, waiting, backing off) come as cards; the rest as a line. */
  protected readonly busyModels = computed(() => this.models().filter(busy));
  protected readonly idleModels = computed(() =>
    this.models()
      .filter((m) => !busy(m))
      .map((m) => m.name)
      .join(', '),
  );
  protected readonly backlog = computed(() => (this.snap()?.queues ?? []).reduce((sum, q) => sum + q.waiting + q.delayed + q.active, 0));
  protected readonly requestsNow = computed(() => this.models().reduce((sum, m) => sum + m.window.requests, 0));

  constructor() {
    this.feed.connect();
  }

  protected n(value: number): string {
    return formatCount(value, this.lang.current());
  }

  protected time(at: number): string {
    return new Intl.DateTimeFormat(this.lang.current(), { timeStyle: 'medium' }).format(new Date(at));
  }

  /** A short duration in the user's language: 850 ms, 12 s, 3 min, 2 h. */
  protected duration(ms: number): string {
    // A heartbeat written just after the picture's clock reading is "0 ms ago", not negative.
    ms = Math.max(0, ms);
    const lang = this.lang.current();
    const unit = (value: number, u: 'millisecond' | 'second' | 'minute' | 'hour') =>
      new Intl.NumberFormat(lang, { style: 'unit', unit: u, unitDisplay: 'narrow', maximumFractionDigits: u === 'second' && value < 10 ? 1 : 0 }).format(value);
    if (ms < 1000) return unit(Math.round(ms), 'millisecond');
    if (ms < 120_000) return unit(ms / 1000, 'second');
    if (ms < 2 * 3_600_000) return unit(Math.round(ms / 60_000), 'minute');
    return unit(Math.round(ms / 3_600_000), 'hour');
  }

  /** bull-board is a separate page: a short cookie for its path first, since navigation carries no bearer token. */
  protected async openDashboard() {
    this.opening.set(true);
    this.dashboardError.set(null);
    try {
      await firstValueFrom(this.http.post(`/v1/admin/queues/session`, null));
      location.assign(`${queueDashboardPath}/`);
    } catch {
      this.dashboardError.set(this.lang.instant('ops.dashboardFailed'));
      this.opening.set(false);
    }
  }
}

function pct(used: number, quota: number): number {
  return quota > 0 ? Math.min(100, Math.round((used / quota) * 100)) : 0;
}

function busy(m: ModelView): boolean {
  return m.requestsHour > 0 || m.window.requests > 0 || m.waiting.chat + m.waiting.batch > 0 || m.blockedForMs > 0 || m.throttles > 0;
}
