import { ChangeDetectionStrategy, Component, inject, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatDialog } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatMenuModule } from '@angular/material/menu';
import { MatSnackBar } from '@angular/material/snack-bar';
import { RouterLink } from '@angular/router';
import type { Conversation } from '@switchboard/contracts';
import { TranslatePipe } from '@ngx-translate/core';
import { toUiError } from '../../core/errors';
import { LanguageService } from '../../core/language.service';
import { IconComponent } from '../../shared/icon.component';
import { ListStatusComponent } from '../../shared/list-status.component';
import { ConversationDialogComponent, type ConversationDialogData } from './conversation-dialog.component';
import { ConversationsStore } from './conversations.store';

@Component({
  selector: 'sb-conversation-list',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterLink, MatButtonModule, MatMenuModule, MatFormFieldModule, MatInputModule, TranslatePipe, IconComponent, ListStatusComponent],
  styleUrl: './conversation-list.component.scss',
  template: `
    <div class="head">
      <a mat-flat-button routerLink="/chat" data-testid="new-conversation" (click)="navigated.emit()">
        <sb-icon name="add" /> {{ 'conversations.new' | translate }}
      </a>
      <mat-form-field appearance="outline" subscriptSizing="dynamic" class="search">
        <mat-label>{{ 'conversations.search' | translate }}</mat-label>
        <input matInput type="search" data-testid="conversation-search" [value]="store.query()" (input)="search($any($event.target).value)" />
      </mat-form-field>
    </div>
    <sb-list-status [store]="store" />
    <h2 class="visually-hidden">{{ 'conversations.heading' | translate }}</h2>
    <ul class="list" data-testid="conversation-list">
      @for (c of store.items(); track c.id) {
        <li class="item" [class.active]="c.id === activeId()" data-testid="conversation-item" [attr.data-id]="c.id">
          <a class="link" [routerLink]="['/chat', c.id]" (click)="navigated.emit()"
             [attr.aria-current]="c.id === activeId() ? 'page' : null" data-testid="conversation-link">
            <span class="title">
              @if (store.live().has(c.id)) {
                <span class="live-dot" data-testid="conversation-live" role="img" [attr.aria-label]="'conversations.answering' | translate"></span>
              }
              {{ c.title || ('conversations.untitled' | translate) }}
            </span>
            @if (c.snippet && store.query()) {
              <span class="snippet" data-testid="conversation-snippet">@for (part of highlight(c.snippet); track $index) {@if (part.hit) {<mark>{{ part.text }}</mark>} @else {{{ part.text }}}}</span>
            }
          </a>
          <button mat-icon-button class="more" [matMenuTriggerFor]="menu" data-testid="conversation-menu"
                  [attr.aria-label]="'conversations.actionsFor' | translate: { title: c.title }">
            <sb-icon name="more" />
          </button>
          <mat-menu #menu="matMenu">
            <button mat-menu-item data-testid="conversation-rename" (click)="rename(c)">
              <sb-icon name="edit" /> <span>{{ 'conversations.rename' | translate }}</span>
            </button>
            <button mat-menu-item data-testid="conversation-delete" (click)="remove(c)">
              <sb-icon name="delete" /> <span>{{ 'conversations.delete' | translate }}</span>
            </button>
          </mat-menu>
        </li>
      } @empty {
        @if (!store.loading()) {
          <li class="empty">{{ (store.query() ? 'conversations.noMatches' : 'conversations.empty') | translate }}</li>
        }
      }
    </ul>
    @if (store.nextCursor()) {
      <button mat-button class="more-btn" (click)="store.loadMore()" [disabled]="store.loading()" data-testid="conversation-more">
        {{ 'conversations.loadMore' | translate }}
      </button>
    }
  `,
})
export class ConversationListComponent {
  readonly activeId = input<string | null>(null);
  /** A conversation was opened (the page closes the drawer on phones). */
  readonly navigated = output<void>();
  /** The open conversation was deleted. */
  readonly deletedActive = output<void>();

  protected readonly store = inject(ConversationsStore);
  private readonly dialog = inject(MatDialog);
  private readonly snack = inject(MatSnackBar);
  private readonly lang = inject(LanguageService);
  private searchTimer: ReturnType<typeof setTimeout> | undefined;

  /** Splits a snippet around the query words so matches can be marked (as text, never as HTML). */
  protected highlight(snippet: string): { text: string; hit: boolean }[] {
    const words = this.store.query().split(/[\s"]+/).map((w) => w.replace(/^[-+]/, '')).filter((w) => w && w.toLowerCase() !== 'or');
    if (!words.length) return [{ text: snippet, hit: false }];
    const pattern = new RegExp(`(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'gi');
    // With one capturing group, split puts the matches at the odd indexes.
    return snippet.split(pattern).map((text, i) => ({ text, hit: i % 2 === 1 })).filter((p) => p.text);
  }

  protected search(q: string): void {
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => void this.store.load(q.trim()), 250);
  }

  protected rename(c: Conversation): void {
    const ref = this.dialog.open<ConversationDialogComponent, ConversationDialogData, string>(ConversationDialogComponent, {
      data: { mode: 'rename', title: c.title },
      width: 'min(440px, 92vw)',
    });
    ref.afterClosed().subscribe(async (title) => {
      if (!title || title === c.title) return;
      try {
        await this.store.rename(c.id, title);
      } catch (err) {
        this.snack.open(this.lang.instant(toUiError(err).message), undefined, { duration: 4000 });
      }
    });
  }

  protected remove(c: Conversation): void {
    const ref = this.dialog.open<ConversationDialogComponent, ConversationDialogData, boolean>(ConversationDialogComponent, {
      data: { mode: 'delete', title: c.title },
      width: 'min(440px, 92vw)',
    });
    ref.afterClosed().subscribe(async (ok) => {
      if (!ok) return;
      try {
        await this.store.remove(c.id);
        this.snack.open(this.lang.instant('conversations.deleted'), undefined, { duration: 3000 });
        if (c.id === this.activeId()) this.deletedActive.emit();
      } catch (err) {
        this.snack.open(this.lang.instant(toUiError(err).message), undefined, { duration: 4000 });
      }
    });
  }
}
