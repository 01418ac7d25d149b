import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatMenuModule } from '@angular/material/menu';
import { MatToolbarModule } from '@angular/material/toolbar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { AuthStore } from './core/auth.store';
import { ClientConfigStore } from './core/client-config.store';
import { LanguageService, languages } from './core/language.service';
import { ThemeService } from './core/theme.service';
import { IconComponent } from './shared/icon.component';

@Component({
  selector: 'sb-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterOutlet, RouterLink, RouterLinkActive, MatToolbarModule, MatButtonModule, MatMenuModule, MatTooltipModule, TranslatePipe, IconComponent],
  styleUrl: './app.scss',
  template: `
    <a class="skip-link" href="#main">{{ 'app.skipToContent' | translate }}</a>
    <mat-toolbar class="app-bar" role="banner">
      <span class="brand" [class.with-nav]="auth.signedIn()" data-testid="brand">Switchboard</span>
      @if (emulator()) {
        <span class="badge" data-testid="emulator-badge" [matTooltip]="'app.emulatorHint' | translate">
          {{ 'app.emulator' | translate }}
        </span>
      }
      @if (auth.signedIn()) {
        <nav class="sections" [attr.aria-label]="'app.sections' | translate">
          <a mat-button routerLink="/chat" routerLinkActive="current" #chatLink="routerLinkActive"
             [attr.aria-current]="chatLink.isActive ? 'page' : null" data-testid="nav-chat">{{ 'app.chat' | translate }}</a>
          <a mat-button routerLink="/jobs" routerLinkActive="current" #jobsLink="routerLinkActive"
             [attr.aria-current]="jobsLink.isActive ? 'page' : null" data-testid="nav-jobs">{{ 'app.jobs' | translate }}</a>
          @if (admin()) {
            <a mat-button routerLink="/operations" routerLinkActive="current" #opsLink="routerLinkActive"
               [attr.aria-current]="opsLink.isActive ? 'page' : null" data-testid="nav-operations"
               class="ops-link" [attr.aria-label]="'app.operations' | translate">
              <sb-icon name="insights" class="ops-icon" /><span class="ops-label">{{ 'app.operations' | translate }}</span>
            </a>
          }
        </nav>
      }
      <span class="spacer"></span>
      <button mat-icon-button [matMenuTriggerFor]="langMenu" data-testid="lang-menu"
              [attr.aria-label]="'app.language' | translate" [matTooltip]="'app.language' | translate">
        <sb-icon name="translate" />
      </button>
      <mat-menu #langMenu="matMenu">
        @for (l of languages; track l.code) {
          <button mat-menu-item [attr.data-testid]="'lang-' + l.code" [attr.lang]="l.code"
                  [attr.aria-current]="lang.current() === l.code" (click)="lang.use(l.code)">
            {{ l.label }} @if (lang.current() === l.code) { <span aria-hidden="true">✓</span> }
          </button>
        }
      </mat-menu>
      <button mat-icon-button data-testid="theme-toggle" (click)="theme.toggle()"
              [attr.aria-label]="(dark() ? 'app.lightTheme' : 'app.darkTheme') | translate"
              [matTooltip]="(dark() ? 'app.lightTheme' : 'app.darkTheme') | translate">
        <sb-icon [name]="dark() ? 'light' : 'dark'" />
      </button>
      @if (auth.signedIn()) {
        <button mat-button [matMenuTriggerFor]="userMenu" data-testid="user-menu" class="user-button">
          <span data-testid="user-name">{{ auth.me()?.username ?? ('app.account' | translate) }}</span>
        </button>
        <mat-menu #userMenu="matMenu">
          <button mat-menu-item data-testid="sign-out" (click)="auth.signOut()">
            <sb-icon name="logout" /> <span>{{ 'app.signOut' | translate }}</span>
          </button>
        </mat-menu>
      }
    </mat-toolbar>
    <main id="main" tabindex="-1"><router-outlet /></main>
  `,
})
export class App {
  protected readonly auth = inject(AuthStore);
  protected readonly lang = inject(LanguageService);
  protected readonly theme = inject(ThemeService);
  private readonly config = inject(ClientConfigStore).config;
  protected readonly languages = languages;
  protected readonly emulator = computed(() => this.config()?.bedrockMode === 'emulator');
  protected readonly dark = computed(() => this.theme.theme() === 'dark');
  /** Admins see Operations (the server checks again: the page's data is admin-only). */
  protected readonly admin = computed(() => {
    const group = this.config()?.adminGroup;
    return !!group && !!this.auth.me()?.groups.includes(group);
  });

  constructor() {
    if (this.auth.isFresh()) void this.auth.loadMe().catch(() => undefined);
  }
}
