import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { TranslatePipe } from '@ngx-translate/core';

/** What a list page's store shows about its loading. */
export type ListState = { loading(): boolean; items(): readonly unknown[]; error(): string | null; load(): unknown };

/** A list's first load (progress bar) and its load error with a retry button. */
@Component({
  selector: 'sb-list-status',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatProgressBarModule, TranslatePipe],
  template: `
    @if (store().loading() && !store().items().length) {
      <mat-progress-bar mode="indeterminate" [attr.aria-label]="'common.loading' | translate" />
    }
    @if (store().error(); as error) {
      <p class="error" role="alert">{{ error | translate }}
        <button mat-button (click)="store().load()">{{ 'common.retry' | translate }}</button></p>
    }
  `,
  styles: `:host { display: contents; }`,
})
export class ListStatusComponent {
  readonly store = input.required<ListState>();
}
