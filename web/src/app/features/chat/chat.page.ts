import { BreakpointObserver } from '@angular/cdk/layout';
import { ChangeDetectionStrategy, Component, ElementRef, afterRenderEffect, computed, effect, inject, input, signal, untracked, viewChild } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatDialog } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatMenuModule } from '@angular/material/menu';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { MatSidenavModule } from '@angular/material/sidenav';
import { MatSnackBar, MatSnackBarModule } from '@angular/material/snack-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { Router } from '@angular/router';
import type { Block } from '@switchboard/contracts';
import { TranslatePipe } from '@ngx-translate/core';
import { map } from 'rxjs';
import { ChatSocketService } from '../../core/chat-socket.service';
import { LanguageService } from '../../core/language.service';
import { formatCost, formatCount } from '../../shared/format';
import { IconComponent } from '../../shared/icon.component';
import { ConversationListComponent } from '../conversations/conversation-list.component';
import { ConversationsStore } from '../conversations/conversations.store';
import { ComposerComponent } from './composer.component';
import { ConversationSettingsDialog, type SettingsDialogData, type SettingsDialogResult } from './conversation-settings.dialog';
import { download, fileStem } from '../../shared/download';
import { toJson, toMarkdown } from './export';
import { MessageComponent } from './message.component';
import { ChatSettings } from './state/chat-settings.service';
import { chatStateProviders } from './state/chat.providers';
import { ConversationLoader } from './state/conversation-loader.service';
import { ConversationSync } from './state/conversation-sync.service';
import { MessageSender } from './state/message-sender.service';
import { ModelsStore } from './state/models.store';
import { OpenConversation } from './state/open-conversation.store';

@Component({
  selector: 'sb-chat-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  providers: chatStateProviders,
  imports: [
    MatSidenavModule, MatButtonModule, MatMenuModule, MatFormFieldModule, MatSelectModule, MatProgressBarModule, MatSnackBarModule, MatTooltipModule,
    TranslatePipe, IconComponent, ConversationListComponent, MessageComponent, ComposerComponent,
  ],
  styleUrl: './chat.page.scss',
  host: { '(document:keydown.escape)': 'escape($event)' },
  template: `
    <mat-sidenav-container class="layout">
      <mat-sidenav #nav [mode]="wide() ? 'side' : 'over'" [opened]="wide() || navOpen()" (closedStart)="navOpen.set(false)"
                   class="nav" [attr.aria-label]="'conversations.heading' | translate" role="navigation">
        <sb-conversation-list [activeId]="chat.conversationId()" (navigated)="navOpen.set(false)" (deletedActive)="toNew()" />
      </mat-sidenav>
      <mat-sidenav-content class="content"
                           (dragover)="dragOver($event)" (dragleave)="dragging.set(false)" (drop)="drop($event)">
        <div class="chat-head">
          @if (!wide()) {
            <button mat-icon-button data-testid="open-conversations" (click)="navOpen.set(true)"
                    [attr.aria-label]="'conversations.open' | translate">
              <sb-icon name="menu" />
            </button>
          }
          <h1 class="title" data-testid="conversation-title">{{ title() || ('conversations.newTitle' | translate) }}</h1>
          @if (chat.totals().any) {
            <span class="totals" data-testid="conversation-usage" [matTooltip]="'chat.totalHint' | translate">
              <span class="tok">{{ 'chat.usage' | translate: { input: fmt(chat.totals().inputTokens), output: fmt(chat.totals().outputTokens) } }}</span>
              @if (chat.totals().cost !== null) { <span class="tok"> · </span><span data-testid="conversation-cost">{{ money(chat.totals().cost) }}</span> }
            </span>
          }
          <mat-form-field appearance="outline" subscriptSizing="dynamic" class="model" [matTooltip]="chat.selectedModel()?.name ?? ''">
            <mat-label>{{ 'chat.model' | translate }}</mat-label>
            <mat-select data-testid="model-select" panelWidth="" [value]="chat.selectedModel()?.id ?? null" (selectionChange)="settings.setModel($event.value)"
                        [disabled]="chat.streaming() || !models.models().length">
              <mat-select-trigger>{{ chat.selectedModel()?.name }}</mat-select-trigger>
              @for (m of models.models(); track m.id) {
                <mat-option [value]="m.id" [attr.data-testid]="'model-option'" [attr.data-model-id]="m.id" class="model-option">
                  <span class="model-name">{{ m.name }}</span>
                  @if (m.vision) { <sb-icon name="image" class="cap-icon" data-testid="cap-vision" /><span class="visually-hidden">{{ 'chat.capVision' | translate }}</span> }
                  @if (m.documents) { <sb-icon name="document" class="cap-icon" data-testid="cap-documents" /><span class="visually-hidden">{{ 'chat.capDocuments' | translate }}</span> }
                </mat-option>
              }
            </mat-select>
          </mat-form-field>
          <button mat-icon-button data-testid="settings-button" (click)="openSettings()" [disabled]="chat.streaming() || !conversationReady()"
                  [attr.aria-label]="'settings.open' | translate" [matTooltip]="'settings.open' | translate">
            <sb-icon name="tune" />
          </button>
          <button mat-icon-button [matMenuTriggerFor]="exportMenu" data-testid="export-menu" [disabled]="!chat.messages().length"
                  [attr.aria-label]="'chat.export' | translate" [matTooltip]="'chat.export' | translate">
            <sb-icon name="download" />
          </button>
          <mat-menu #exportMenu="matMenu">
            <button mat-menu-item data-testid="export-markdown" (click)="exportMarkdown()">{{ 'chat.exportMarkdown' | translate }}</button>
            <button mat-menu-item data-testid="export-json" (click)="exportJson()">{{ 'chat.exportJson' | translate }}</button>
          </mat-menu>
        </div>
        @if (connection() === 'offline' || connection() === 'reconnecting') {
          <div class="connection" role="status" data-testid="connection-state" [attr.data-state]="connection()">
            {{ (connection() === 'offline' ? 'chat.connectionOffline' : 'chat.connectionReconnecting') | translate }}
          </div>
        }
        @if (chat.loading()) {
          <mat-progress-bar mode="indeterminate" [attr.aria-label]="'common.loading' | translate" />
        }
        <section #scroller class="messages" data-testid="messages" [attr.aria-label]="'chat.messages' | translate"
                 [attr.aria-busy]="chat.streaming()">
          <div class="inner">
            @if (chat.loadError()) {
              @if (gone()) {
                <p class="error" role="alert" data-testid="chat-error">{{ 'conversations.notFound' | translate }}</p>
              } @else {
                <p class="error" role="alert" data-testid="chat-error">{{ chat.loadError()! | translate }}
                  <button mat-button (click)="loader.load(chat.conversationId())">{{ 'common.retry' | translate }}</button></p>
              }
            }
            @if (models.modelsError()) {
              <p class="error" role="alert">{{ 'chat.modelsFailed' | translate }}
                <button mat-button (click)="models.load()">{{ 'common.retry' | translate }}</button></p>
            }
            @if (chat.conversation()?.systemPrompt; as sp) {
              <button type="button" class="system-prompt" data-testid="active-system-prompt" (click)="openSettings()" [disabled]="chat.streaming()">
                <strong>{{ 'chat.systemPromptActive' | translate }}:</strong> {{ sp }}
              </button>
            }
            @if (chat.summary(); as sum) {
              <details class="summary" data-testid="history-summary">
                <summary>{{ 'chat.compressed' | translate: { count: sum.coversMessages } }}</summary>
                <div class="summary-text">{{ sum.text }}</div>
              </details>
            }
            @for (m of chat.messages(); track m.key) {
              <sb-message [message]="m" [model]="models.modelOf(m.modelId)" [busy]="chat.streaming()" (copy)="copy($event)"
                          (regenerate)="sender.regenerate(m)" (retry)="sender.retry(m)" (edited)="sender.editAndResend(m, $event)" (switchTo)="loader.switchBranch($event)" />
            } @empty {
              @if (!chat.loading() && !chat.loadError()) {
                <div class="welcome" data-testid="empty-chat">
                  <h2>{{ 'chat.welcomeTitle' | translate }}</h2>
                  <p>{{ 'chat.welcomeText' | translate }}</p>
                </div>
              }
            }
            @if (chat.sendError()) {
              <p class="error" role="alert" data-testid="send-error">{{ chat.sendError()! | translate }}</p>
            }
          </div>
        </section>
        <span class="visually-hidden" role="status" aria-live="polite">{{ announcement() | translate }}</span>
        <sb-composer [streaming]="chat.streaming()" [model]="chat.selectedModel()" (send)="send($event)" (stop)="sender.stop()" />
        @if (dragging()) {
          <div class="drop" aria-hidden="true"><span>{{ 'attach.dropHere' | translate }}</span></div>
        }
      </mat-sidenav-content>
    </mat-sidenav-container>
  `,
})
export class ChatPage {
  /** Route param (`/chat/:id`), bound by the router. */
  readonly id = input<string>();

  protected readonly chat = inject(OpenConversation);
  protected readonly models = inject(ModelsStore);
  protected readonly loader = inject(ConversationLoader);
  protected readonly sender = inject(MessageSender);
  protected readonly settings = inject(ChatSettings);
  /** Created with the page: other tabs' changes follow from the start. */
  private readonly sync = inject(ConversationSync);
  private readonly conversations = inject(ConversationsStore);
  private readonly router = inject(Router);
  private readonly snack = inject(MatSnackBar);
  private readonly dialog = inject(MatDialog);
  private readonly lang = inject(LanguageService);
  private readonly composer = viewChild.required(ComposerComponent);
  private readonly scroller = viewChild.required<ElementRef<HTMLElement>>('scroller');

  protected readonly wide = toSignal(
    inject(BreakpointObserver).observe('(min-width: 900px)').pipe(map((r) => r.matches)),
    { initialValue: true },
  );
  protected readonly navOpen = signal(false);
  /** A link to a deleted (or someone else's) conversation: retrying cannot help. */
  protected readonly gone = computed(() => ['errors.code.not_found', 'conversations.deletedElsewhere'].includes(this.chat.loadError() ?? ''));
  protected readonly connection = inject(ChatSocketService).state;
  protected readonly dragging = signal(false);
  // The list holds the freshest title (renames happen there).
  protected readonly title = computed(() => {
    const id = this.chat.conversationId();
    return this.conversations.items().find((c) => c.id === id)?.title ?? this.chat.conversation()?.title ?? '';
  });
  protected readonly announcement = computed(() => {
    const last = this.chat.messages().at(-1);
    if (!last || last.role !== 'assistant') return '';
    if (last.status === 'complete') return 'chat.answerDone';
    if (last.status === 'cancelled') return 'chat.stopped';
    if (last.status === 'failed') return 'chat.failed';
    return '';
  });
  private stickToBottom = true;

  constructor() {
    void this.models.load();
    if (!this.conversations.items().length) void this.conversations.load();
    effect(() => {
      const id = this.id() ?? null;
      untracked(() => void this.loader.open(id));
    });
    // Follow the answer while it streams unless the user scrolled up.
    afterRenderEffect(() => {
      this.chat.messages();
      const el = this.scroller().nativeElement;
      if (this.stickToBottom) el.scrollTop = el.scrollHeight;
    });
    queueMicrotask(() => {
      const el = this.scroller().nativeElement;
      el.addEventListener('scroll', () => {
        this.stickToBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      }, { passive: true });
    });
  }

  protected fmt(n: number): string {
    return formatCount(n, this.lang.current());
  }

  protected money(n: number | null): string {
    return formatCost(n, this.lang.current());
  }

  protected async send(blocks: Block[]): Promise<void> {
    this.stickToBottom = true;
    const result = await this.sender.sendWithResult(blocks);
    if (!result.ok) {
      // Nothing typed is lost: the text goes back into the box, with one message saying why.
      this.composer().restoreLast();
      this.chat.sendError.set(result.error);
    }
  }

  protected escape(event: Event): void {
    // Esc belongs to an open dialog or menu first; anywhere else on the page it stops the answer.
    if (event.defaultPrevented || this.dialog.openDialogs.length || document.querySelector('.cdk-overlay-pane .mat-mdc-menu-panel')) return;
    if (this.chat.streaming()) {
      event.preventDefault();
      void this.sender.stop();
    }
  }

  /** Settings edit what is loaded: until the open conversation has arrived, the dialog would show defaults and save over it. */
  protected readonly conversationReady = computed(() => {
    const id = this.id() ?? null;
    return !this.chat.loading() && (id === null || this.chat.conversation()?.id === id);
  });

  protected openSettings(): void {
    if (!this.conversationReady()) return;
    const conv = this.chat.conversation();
    const ref = this.dialog.open<ConversationSettingsDialog, SettingsDialogData, SettingsDialogResult>(ConversationSettingsDialog, {
      data: { systemPrompt: conv?.systemPrompt ?? null, params: conv?.params ?? {}, model: this.chat.selectedModel() },
      width: 'min(720px, 96vw)',
      maxHeight: '92dvh',
      autoFocus: 'first-tabbable',
    });
    ref.afterClosed().subscribe((result) => {
      if (!result) return;
      void this.settings.save(result).then(() => {
        if (!this.chat.sendError()) this.snack.open(this.lang.instant('settings.saved'), undefined, { duration: 2000 });
      });
    });
  }

  protected toNew(): void {
    void this.router.navigate(['/chat']);
  }

  protected async copy(text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const ta = document.createElement('textarea');
      ta.value = text;
      ta.style.position = 'fixed';
      ta.style.opacity = '0';
      document.body.appendChild(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    this.snack.open(this.lang.instant('chat.copied'), undefined, { duration: 2000 });
  }

  protected exportMarkdown(): void {
    const md = toMarkdown(
      { conversation: this.chat.conversation(), messages: this.chat.messages(), models: this.models.models() },
      { user: this.lang.instant('chat.you'), assistant: this.lang.instant('chat.assistant'), untitled: this.lang.instant('conversations.newTitle') },
    );
    download(`${fileStem(this.chat.conversation()?.title)}.md`, 'text/markdown;charset=utf-8', md);
  }

  protected exportJson(): void {
    const json = toJson({ conversation: this.chat.conversation(), messages: this.chat.messages(), models: this.models.models() });
    download(`${fileStem(this.chat.conversation()?.title)}.json`, 'application/json', json);
  }

  protected dragOver(event: DragEvent): void {
    if (!event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    this.dragging.set(true);
  }

  protected drop(event: DragEvent): void {
    this.dragging.set(false);
    const files = Array.from(event.dataTransfer?.files ?? []);
    if (!files.length) return;
    event.preventDefault();
    void this.composer().addFiles(files);
  }
}
