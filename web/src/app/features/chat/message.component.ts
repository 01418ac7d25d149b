import { ChangeDetectionStrategy, Component, computed, inject, input, output, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatButtonModule } from '@angular/material/button';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { PublicModel } from '@switchboard/contracts';
import { TranslatePipe, translate } from '@ngx-translate/core';
import { LanguageService } from '../../core/language.service';
import { IconComponent } from '../../shared/icon.component';
import type { UiMessage } from './state/ui-message';
import { costOf } from '../../shared/cost';
import { formatCost, formatCount, ordinal } from '../../shared/format';
import { MarkdownComponent } from '../../shared/markdown/markdown.component';

@Component({
  selector: 'sb-message',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [FormsModule, MatFormFieldModule, MatInputModule, MarkdownComponent, MatButtonModule, MatTooltipModule, TranslatePipe, IconComponent],
  host: {
    role: 'article',
    '[attr.aria-label]': 'label()',
    '[attr.data-testid]': "'message'",
    '[attr.data-role]': 'message().role',
    '[attr.data-status]': 'message().status',
    '[class]': "'msg msg-' + message().role",
  },
  styleUrl: './message.component.scss',
  template: `
    <div class="bubble">
      <div class="who">{{ (message().role === 'user' ? 'chat.you' : 'chat.assistant') | translate }}</div>
      @if (message().role === 'user') {
        @if (images().length || documents().length) {
          <div class="attachments">
            @for (img of images(); track $index) {
              <img [src]="img" [alt]="'chat.attachedImage' | translate" data-testid="message-image" />
            }
            @for (d of documents(); track $index) {
              <span class="doc" data-testid="message-document">{{ d }}</span>
            }
          </div>
        }
        @if (editing()) {
          <form class="edit" (submit)="$event.preventDefault(); submitEdit()">
            <mat-form-field appearance="outline" subscriptSizing="dynamic" class="edit-field">
              <mat-label>{{ 'chat.editLabel' | translate }}</mat-label>
              <textarea matInput [(ngModel)]="draft" name="draft" rows="3" data-testid="edit-input"
                        (keydown.escape)="$event.stopPropagation(); editing.set(false)"></textarea>
            </mat-form-field>
            <div class="edit-actions">
              <button mat-button type="button" (click)="editing.set(false)" data-testid="edit-cancel">{{ 'common.cancel' | translate }}</button>
              <button mat-flat-button type="submit" [disabled]="!draft.trim()" data-testid="edit-send">{{ 'chat.editSend' | translate }}</button>
            </div>
          </form>
        } @else {
          <div class="user-text" data-testid="message-content" [class.collapsed]="longText() && !expanded()">{{ userText() }}</div>
          @if (longText()) {
            <button mat-button type="button" class="more" data-testid="show-more" (click)="expanded.set(!expanded())"
                    [attr.aria-expanded]="expanded()">{{ (expanded() ? 'chat.showLess' : 'chat.showMore') | translate }}</button>
          }
        }
      } @else {
        @if (message().reasoning) {
          <details class="reasoning" data-testid="message-reasoning">
            <summary>{{ 'chat.reasoning' | translate }}</summary>
            <div class="reasoning-text" data-testid="message-reasoning-text">{{ message().reasoning }}</div>
          </details>
        }
        @if (message().text) {
          <div data-testid="message-content"><sb-markdown [text]="message().text" [complete]="!live()" /></div>
        }
        @if (live()) {
          <div class="live" role="status" data-testid="message-state">
            <span class="dots" aria-hidden="true"><i></i><i></i><i></i></span>
            @if (message().waitingForConnection) {
              <span data-testid="message-offline">{{ 'chat.waitingForConnection' | translate }}</span>
            } @else if (message().state === 'queued' && message().position) {
              <span data-testid="queue-position">{{ 'chat.queuePosition' | translate: { ordinal: positionText() } }}</span>
            } @else if (message().state === 'compressing') {
              <span data-testid="message-compressing">{{ 'chat.compressing' | translate }}</span>
            } @else if (message().state === 'retrying') {
              <span>{{ 'chat.retrying' | translate: { attempt: message().attempt ?? 2 } }}</span>
            } @else if (!message().text) {
              <span>{{ (message().state === 'queued' || message().status === 'pending' ? 'chat.queued' : 'chat.thinking') | translate }}</span>
            }
          </div>
        }
        @if (message().status === 'cancelled') {
          <div class="note" data-testid="message-stopped">{{ 'chat.stopped' | translate }}</div>
        }
        @if (message().status === 'failed') {
          <div class="note error" role="alert" data-testid="message-error">
            {{ 'chat.failed' | translate }} {{ (message().error ?? '') | translate }}
            @if (message().id && !busy()) {
              <button mat-stroked-button type="button" data-testid="retry-answer" (click)="retry.emit()">{{ 'chat.retry' | translate }}</button>
            }
          </div>
        }
      }
      @if (!live()) {
        <div class="meta">
          @if (message().role === 'assistant' && message().usage) {
            <span class="usage" data-testid="message-usage">
              {{ 'chat.usage' | translate: { input: inputTokens(), output: outputTokens() } }}
              @if (cost() !== null) { · <span data-testid="message-cost">{{ costText() }}</span> }
            </span>
          }
          @if (message().branch; as b) {
            <span class="branches" data-testid="branch-switcher" role="group" [attr.aria-label]="'chat.branches' | translate">
              <button mat-icon-button class="small" data-testid="branch-prev" [disabled]="busy() || b.index === 0"
                      (click)="switchTo.emit(b.siblings[b.index - 1]!)" [attr.aria-label]="'chat.branchPrev' | translate">
                <sb-icon name="prev" />
              </button>
              <span data-testid="branch-position">{{ b.index + 1 }}/{{ b.count }}</span>
              <button mat-icon-button class="small" data-testid="branch-next" [disabled]="busy() || b.index === b.count - 1"
                      (click)="switchTo.emit(b.siblings[b.index + 1]!)" [attr.aria-label]="'chat.branchNext' | translate">
                <sb-icon name="next" />
              </button>
            </span>
          }
          <span class="spacer"></span>
          @if (message().id && !busy() && !editing()) {
            @if (message().role === 'user' && userText()) {
              <button mat-icon-button class="small" data-testid="edit-message" (click)="startEdit()"
                      [attr.aria-label]="'chat.edit' | translate" [matTooltip]="'chat.edit' | translate">
                <sb-icon name="edit" />
              </button>
            } @else if (message().role === 'assistant') {
              <button mat-icon-button class="small" data-testid="regenerate" (click)="regenerate.emit()"
                      [attr.aria-label]="'chat.regenerate' | translate" [matTooltip]="'chat.regenerate' | translate">
                <sb-icon name="refresh" />
              </button>
            }
          }
          @if (copyText()) {
            <button mat-icon-button class="small" data-testid="copy-message" (click)="copy.emit(copyText())"
                    [attr.aria-label]="'chat.copy' | translate" [matTooltip]="'chat.copy' | translate">
              <sb-icon name="copy" />
            </button>
          }
        </div>
      }
    </div>
  `,
})
export class MessageComponent {
  readonly message = input.required<UiMessage>();
  readonly model = input<PublicModel | undefined>();
  readonly copy = output<string>();
  /** An answer is streaming: branch actions wait. */
  readonly busy = input(false);
  readonly regenerate = output<void>();
  readonly retry = output<void>();
  readonly edited = output<string>();
  readonly switchTo = output<string>();
  protected readonly editing = signal(false);
  protected readonly expanded = signal(false);
  /** Long pasted questions are shown folded (about 12 lines) until asked. */
  protected readonly longText = computed(() => {
    const t = this.userText();
    return t.length > 1500 || t.split('\n').length > 14;
  });
  protected draft = '';

  protected startEdit(): void {
    this.draft = this.userText();
    this.editing.set(true);
  }

  protected submitEdit(): void {
    const text = this.draft.trim();
    if (!text) return;
    this.editing.set(false);
    this.edited.emit(text);
  }
  private readonly lang = inject(LanguageService);
  protected readonly label = translate(() => (this.message().role === 'user' ? 'chat.you' : 'chat.assistant'));

  protected readonly live = computed(() => this.message().status === 'pending' || this.message().status === 'streaming');
  protected readonly images = computed(() =>
    this.message().content.flatMap((b) => (b.type === 'image' ? [`data:${b.mediaType};base64,${b.data}`] : [])),
  );
  protected readonly documents = computed(() =>
    this.message().content.flatMap((b) => (b.type === 'document' ? [`${b.name}.${b.format}`] : [])),
  );
  protected readonly userText = computed(() =>
    this.message().content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n'),
  );
  protected readonly copyText = computed(() => (this.message().role === 'user' ? this.userText() : this.message().text));
  protected readonly positionText = computed(() => ordinal(this.message().position ?? 0, this.lang.current()));
  protected readonly cost = computed(() => this.message().cost ?? costOf(this.message().usage, this.model()));
  protected readonly costText = computed(() => formatCost(this.cost(), this.lang.current()));
  protected readonly inputTokens = computed(() => formatCount(this.message().usage?.inputTokens ?? 0, this.lang.current()));
  protected readonly outputTokens = computed(() => formatCount(this.message().usage?.outputTokens ?? 0, this.lang.current()));
}
