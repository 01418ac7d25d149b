import { ChangeDetectionStrategy, Component, inject, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import type { Job, PublicModel } from '@switchboard/contracts';
import { TranslatePipe } from '@ngx-translate/core';
import { LanguageService } from '../../core/language.service';
import { formatTime } from '../../shared/format';
import { ListStatusComponent } from '../../shared/list-status.component';
import { JobDetailComponent } from './job-detail.component';
import { JobsStore, isLive } from './jobs.store';

/** The user's jobs, newest first; one at a time opens to its detail. */
@Component({
  selector: 'section[sbJobList]',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatProgressBarModule, TranslatePipe, ListStatusComponent, JobDetailComponent],
  styleUrl: './job-list.component.scss',
  template: `
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
            <div sbJobDetail class="detail" [id]="'job-' + j.id" data-testid="job-detail" [job]="j" [models]="models()"></div>
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
  `,
})
export class JobListComponent {
  readonly models = input<PublicModel[]>([]);
  /** The job shown open (at most one); two-way with openIdChange. */
  readonly openId = input<string | null>(null);
  readonly openIdChange = output<string | null>();

  protected readonly store = inject(JobsStore);
  private readonly lang = inject(LanguageService);

  protected live(j: Job): boolean {
    return isLive(j);
  }

  protected time(iso: string): string {
    return formatTime(iso, this.lang.current());
  }

  protected toggle(id: string): void {
    this.openIdChange.emit(this.openId() === id ? null : id);
  }
}
