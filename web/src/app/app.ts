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
import { SpendPanelComponent } from './features/usage/spend-meter.component';
import { barWidth } from './features/usage/budget-meter';
import { MyUsageStore } from './features/usage/my-usage.store';
import { IconComponent } from './shared/icon.component';

@Component({
  selector: 'sb-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterOutlet, RouterLink, RouterLinkActive, MatToolbarModule, MatButtonModule, MatMenuModule, MatTooltipModule, TranslatePipe, IconComponent, SpendPanelComponent],
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
          @if (auth.isAdmin()) {
            <a mat-button class="admin-link" routerLink="/budgets" routerLinkActive="current" #budgetsLink="routerLinkActive"
               [attr.aria-current]="budgetsLink.isActive ? 'page' : null" data-testid="nav-budgets">{{ 'app.budgets' | translate }}</a>
            <a mat-button class="admin-link" routerLink="/usage" routerLinkActive="current" #usageLink="routerLinkActive"
               [attr.aria-current]="usageLink.isActive ? 'page' : null" data-testid="nav-usage">{{ 'app.usage' | translate }}</a>
            <a mat-button class="admin-link" routerLink="/operations" routerLinkActive="current" #opsLink="routerLinkActive"
               [attr.aria-current]="opsLink.isActive ? 'page' : null" data-testid="nav-operations">{{ 'app.operations' | translate }}</a>
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
        <button mat-button [matMenuTriggerFor]="userMenu" data-testid="user-menu" class="user-button"
                (menuOpened)="myUsage.refresh()">
          <span data-testid="user-name">{{ auth.me()?.username ?? ('app.account' | translate) }}</span>
          @if (myUsage.tightest(); as t) {
            <!-- The budget closest to its limit, at a glance; the menu has the numbers. -->
            <span class="header-budget" data-testid="header-budget" [attr.data-level]="t.level" aria-hidden="true">
              <span class="fill" [style.width]="barWidth(t.fraction)"></span>
            </span>
            @if (t.level !== 'ok') {
              <span class="visually-hidden">{{ 'usage.me.headerWarn' | translate: { percent: t.percent } }}</span>
            }
          }
        </button>
        <mat-menu #userMenu="matMenu" class="user-menu-panel">
          <sb-spend-panel data-testid="spend-panel" (click)="$event.stopPropagation()" />
          @if (auth.isAdmin()) {
            <!-- Phones: the admin pages are here instead of in the (full) header. -->
            <a mat-menu-item class="admin-menu-link" routerLink="/budgets" data-testid="menu-budgets">{{ 'app.budgets' | translate }}</a>
            <a mat-menu-item class="admin-menu-link" routerLink="/usage" data-testid="menu-usage">{{ 'app.usage' | translate }}</a>
            <a mat-menu-item class="admin-menu-link" routerLink="/operations" data-testid="menu-operations">{{ 'app.operations' | translate }}</a>
          }
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
  protected readonly myUsage = inject(MyUsageStore);
  protected readonly barWidth = barWidth;
  private readonly config = inject(ClientConfigStore).config;
  protected readonly languages = languages;
  protected readonly emulator = computed(() => this.config()?.bedrockMode === 'emulator');
  protected readonly dark = computed(() => this.theme.theme() === 'dark');

  constructor() {
    if (this.auth.isFresh()) void this.auth.loadMe().catch(() => undefined);
  }
}
