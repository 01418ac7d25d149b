import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { MatSnackBarModule } from '@angular/material/snack-bar';
import type { PublicModel } from '@switchboard/contracts';
import { ApiService } from '../../core/api.service';
import { LanguageService } from '../../core/language.service';
import { JobFormComponent } from './job-form.component';
import { JobListComponent } from './job-list.component';
import { JobsStore } from './jobs.store';

/** Summarize jobs: a new one on the left, the list (with the open job's detail) on the right. */
@Component({
  selector: 'sb-jobs-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  providers: [JobsStore],
  imports: [MatSnackBarModule, JobFormComponent, JobListComponent],
  styleUrl: './jobs.page.scss',
  template: `
    <div class="page">
      <section sbJobForm class="card new" aria-labelledby="new-job-heading" [models]="models()" (submitted)="openId.set($event)"></section>
      <section sbJobList class="card list" aria-labelledby="jobs-heading" [models]="models()" [(openId)]="openId"></section>
    </div>
    <span class="visually-hidden" role="status" aria-live="polite">{{ announcement() }}</span>
  `,
})
export class JobsPage {
  private readonly store = inject(JobsStore);
  private readonly lang = inject(LanguageService);

  protected readonly models = signal<PublicModel[]>([]);
  protected readonly openId = signal<string | null>(null);

  protected readonly announcement = computed(() => {
    const open = this.store.items().find((j) => j.id === this.openId());
    return open ? this.lang.instant(`jobs.status.${open.status}`) : '';
  });

  constructor() {
    void this.store.load();
    void inject(ApiService).models().then((models) => this.models.set(models)).catch(() => undefined);
  }
}
