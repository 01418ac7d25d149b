import { ChangeDetectionStrategy, Component, computed, inject, input, signal } from '@angular/core';
import { FormControl, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { Router } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { AuthStore } from '../../core/auth.store';
import { ClientConfigStore } from '../../core/client-config.store';
import { toUiError } from '../../core/errors';
import { safeReturnUrl } from './return-url';

@Component({
  selector: 'sb-sign-in',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ReactiveFormsModule, MatCardModule, MatFormFieldModule, MatInputModule, MatButtonModule, MatProgressBarModule, TranslatePipe],
  styles: `
    :host { flex: 1; display: grid; place-items: center; padding: 16px; overflow: auto; }
    mat-card { width: min(420px, 100%); }
    h1 { font: var(--mat-sys-headline-small); margin: 0 0 4px; }
    p { margin: 0 0 16px; color: var(--mat-sys-on-surface-variant); }
    mat-form-field { width: 100%; }
    .error { color: var(--mat-sys-error); margin: 0 0 12px; }
    .notice { padding: 8px 12px; border-radius: 8px; background: var(--mat-sys-secondary-container); color: var(--mat-sys-on-secondary-container); }
    button[type=submit], .sso { width: 100%; }
  `,
  template: `
    <mat-card appearance="outlined">
      <mat-card-content>
        <h1>{{ 'signIn.title' | translate }}</h1>
        @if (expired()) {
          <p class="notice" role="status" data-testid="signin-expired">{{ 'signIn.expired' | translate }}</p>
        }
        @if (configs.failed()) {
          <p class="error" role="alert">{{ 'signIn.configFailed' | translate }}</p>
          <button mat-stroked-button type="button" (click)="configs.load()">{{ 'common.retry' | translate }}</button>
        } @else if (!config()) {
          <mat-progress-bar mode="indeterminate" [attr.aria-label]="'common.loading' | translate" />
        } @else if (config()!.authMode === 'oidc') {
          <p>{{ 'signIn.ssoHint' | translate }}</p>
          @if (error()) {
            <p class="error" role="alert" data-testid="signin-error">{{ error()! | translate }}</p>
          }
          <button mat-flat-button type="button" class="sso" [disabled]="busy()" data-testid="signin-sso" (click)="signInSso()">
            {{ 'signIn.sso' | translate }}
          </button>
        } @else {
          <p>{{ 'signIn.localHint' | translate }}</p>
          <form (submit)="$event.preventDefault(); submit()" novalidate>
            <mat-form-field appearance="outline">
              <mat-label>{{ 'signIn.username' | translate }}</mat-label>
              <input matInput [formControl]="username" autocomplete="username" autocapitalize="off"
                     spellcheck="false" data-testid="signin-username" required />
              @if (username.hasError('pattern')) {
                <mat-error>{{ 'signIn.usernamePattern' | translate }}</mat-error>
              } @else if (username.hasError('required')) {
                <mat-error>{{ 'signIn.usernameRequired' | translate }}</mat-error>
              }
            </mat-form-field>
            @if (error()) {
              <p class="error" role="alert" data-testid="signin-error">{{ error()! | translate }}</p>
            }
            <button mat-flat-button type="submit" [disabled]="busy()" data-testid="signin-submit">
              {{ 'signIn.submit' | translate }}
            </button>
          </form>
        }
      </mat-card-content>
    </mat-card>
  `,
})
export class SignInPage {
  protected readonly configs = inject(ClientConfigStore);
  private readonly auth = inject(AuthStore);
  private readonly router = inject(Router);

  /** Query params bound by the router. */
  readonly returnUrl = input<string>();
  readonly expiredParam = input<string | undefined>(undefined, { alias: 'expired' });

  protected readonly config = this.configs.config;
  protected readonly expired = computed(() => !!this.expiredParam());
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly username = new FormControl('', {
    nonNullable: true,
    validators: [Validators.required, Validators.maxLength(64), Validators.pattern(/^[\p{L}\p{N}._@-]+$/u)],
  });

  constructor() {
    void this.configs.load();
  }

  protected async submit(): Promise<void> {
    this.username.markAsTouched();
    if (this.username.invalid || this.busy()) return;
    this.busy.set(true);
    this.error.set(null);
    try {
      await this.auth.signInLocal(this.username.value.trim());
      await this.router.navigateByUrl(safeReturnUrl(this.returnUrl()));
    } catch (err) {
      this.error.set(toUiError(err).message);
    } finally {
      this.busy.set(false);
    }
  }

  /** Off to the IdP; the callback page brings the user back to `returnUrl`. */
  protected async signInSso(): Promise<void> {
    if (this.busy()) return;
    this.busy.set(true);
    this.error.set(null);
    try {
      await this.auth.signInOidc(safeReturnUrl(this.returnUrl()));
    } catch {
      this.error.set('signIn.ssoUnavailable');
      this.busy.set(false);
    }
  }
}
