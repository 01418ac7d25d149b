import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { Router, RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { AuthStore } from '../../core/auth.store';
import { safeReturnUrl } from './return-url';

/** Where the IdP sends the browser back: trades the code for tokens, then goes on to the portal. */
@Component({
  selector: 'sb-auth-callback',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatCardModule, MatButtonModule, MatProgressBarModule, RouterLink, TranslatePipe],
  styles: `
    :host { flex: 1; display: grid; place-items: center; padding: 16px; overflow: auto; }
    mat-card { width: min(420px, 100%); }
    h1 { font: var(--mat-sys-headline-small); margin: 0 0 12px; }
    .error { color: var(--mat-sys-error); margin: 0 0 12px; overflow-wrap: anywhere; }
  `,
  template: `
    <mat-card appearance="outlined">
      <mat-card-content>
        @if (failure(); as detail) {
          <h1>{{ 'signIn.ssoFailed' | translate }}</h1>
          <p class="error" role="alert" data-testid="sso-error">{{ detail }}</p>
          <a mat-flat-button routerLink="/sign-in" data-testid="sso-back">{{ 'signIn.back' | translate }}</a>
        } @else {
          <h1>{{ 'signIn.finishing' | translate }}</h1>
          <mat-progress-bar mode="indeterminate" [attr.aria-label]="'common.loading' | translate" />
        }
      </mat-card-content>
    </mat-card>
  `,
})
export class AuthCallbackPage {
  private readonly auth = inject(AuthStore);
  private readonly router = inject(Router);
  protected readonly failure = signal<string | null>(null);

  constructor() {
    void this.finish();
  }

  private async finish(): Promise<void> {
    try {
      const returnUrl = await this.auth.completeOidcSignIn();
      // replaceUrl: the callback URL (with its used code) must not stay in history.
      await this.router.navigateByUrl(safeReturnUrl(returnUrl), { replaceUrl: true });
    } catch (err) {
      this.failure.set(err instanceof Error && err.message ? err.message : String(err));
    }
  }
}
