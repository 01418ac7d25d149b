import { ChangeDetectionStrategy, Component, ElementRef, computed, inject, input, output, signal, viewChild } from '@angular/core';
import { toObservable } from '@angular/core/rxjs-interop';
import { filter, firstValueFrom, of, timeout } from 'rxjs';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatTooltipModule } from '@angular/material/tooltip';
import { CdkTextareaAutosize } from '@angular/cdk/text-field';
import type { Block, PublicModel } from '@switchboard/contracts';
import { contentLimits } from '@switchboard/contracts/constants';
import { TranslatePipe } from '@ngx-translate/core';
import { LanguageService } from '../../core/language.service';
import { attachmentAccept } from '../../shared/files';
import { IconComponent } from '../../shared/icon.component';
import { type AttachProblem, type Attachment, blocksOf, incompatible, prepareFiles } from './attachments';

const MAX_TEXT_CHARS = contentLimits.maxTextChars;

@Component({
  selector: 'sb-composer',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [FormsModule, MatFormFieldModule, MatInputModule, MatButtonModule, MatTooltipModule, CdkTextareaAutosize, TranslatePipe, IconComponent],
  styleUrl: './composer.component.scss',
  template: `
    @if (problems().length) {
      <div class="problems" role="alert" data-testid="attachment-error">
        @for (p of problems(); track $index) {
          <div>{{ p.key | translate: p.params }}</div>
        }
        <button mat-button type="button" (click)="problems.set([])">{{ 'common.dismiss' | translate }}</button>
      </div>
    }
    @if (attachments().length) {
      <ul class="chips" [attr.aria-label]="'attach.list' | translate">
        @for (a of attachments(); track a.id) {
          <li class="chip" data-testid="attachment-chip" [class.bad]="badIds().has(a.id)" [attr.data-kind]="a.kind">
            @if (a.preview) { <img [src]="a.preview" alt="" /> }
            <span class="name">{{ a.name }}</span>
            <button mat-icon-button type="button" class="small" (click)="remove(a.id)"
                    [attr.aria-label]="'attach.remove' | translate: { name: a.name }" data-testid="attachment-remove">
              <sb-icon name="close" />
            </button>
          </li>
        }
      </ul>
    }
    <form class="row" (submit)="$event.preventDefault(); submit()">
      <input #file type="file" hidden multiple data-testid="file-input"
             [accept]="accept"
             (change)="picked(file)" />
      <button mat-icon-button type="button" data-testid="attach-button" (click)="file.click()" [disabled]="busy()"
              [attr.aria-label]="'attach.add' | translate" [matTooltip]="'attach.add' | translate">
        <sb-icon name="attach" />
      </button>
      <mat-form-field appearance="outline" class="field" subscriptSizing="dynamic">
        <mat-label>{{ 'chat.inputLabel' | translate }}</mat-label>
        <textarea matInput #box data-testid="composer-input" cdkTextareaAutosize cdkAutosizeMinRows="1" cdkAutosizeMaxRows="8"
                  [(ngModel)]="text" name="text" (keydown)="keydown($event)" (paste)="paste($event)"
                  [attr.aria-describedby]="nearLimit() ? hintId + ' ' + countId : hintId" [attr.aria-invalid]="tooLong()"></textarea>
      </mat-form-field>
      <span class="visually-hidden" [id]="hintId">{{ 'chat.keyboardHint' | translate }}</span>
      @if (streaming()) {
        <button mat-flat-button type="button" class="stop" data-testid="stop-button" (click)="stop.emit()"
                [attr.aria-label]="'chat.stop' | translate">
          <sb-icon name="stop" /> <span class="label">{{ 'chat.stop' | translate }}</span>
        </button>
      } @else {
        <button mat-flat-button type="submit" data-testid="send-button" [disabled]="!canSend()"
                [attr.aria-label]="'chat.send' | translate">
          <sb-icon name="send" /> <span class="label">{{ 'chat.send' | translate }}</span>
        </button>
      }
    </form>
      @if (nearLimit()) {
        <div class="count" [class.over]="tooLong()" data-testid="composer-count" role="status" [id]="countId">
          {{ (tooLong() ? 'chat.tooLong' : 'chat.charCount') | translate: { count: fmt(text().length), max: fmt(maxChars) } }}
        </div>
      }
  `,
})
export class ComposerComponent {
  readonly streaming = input(false);
  readonly model = input<PublicModel | undefined>();
  readonly send = output<Block[]>();
  readonly stop = output<void>();

  private readonly lang = inject(LanguageService);
  private readonly model$ = toObservable(this.model);
  private readonly box = viewChild.required<ElementRef<HTMLTextAreaElement>>('box');
  protected readonly hintId = 'composer-hint';
  protected readonly countId = 'composer-count';
  protected readonly maxChars = MAX_TEXT_CHARS;
  protected readonly accept = attachmentAccept;
  protected readonly tooLong = computed(() => this.text().length > MAX_TEXT_CHARS);
  protected readonly nearLimit = computed(() => this.text().length > MAX_TEXT_CHARS * 0.9);
  /** What the last send took from the box, to put back if the server refuses it. */
  private lastSent: { text: string; attachments: Attachment[] } | null = null;
  protected readonly text = signal('');
  protected readonly attachments = signal<Attachment[]>([]);
  protected readonly problems = signal<AttachProblem[]>([]);
  protected readonly busy = signal(false);
  protected readonly badIds = computed(() => new Set(incompatible(this.attachments(), this.model()).map((a) => a.id)));
  protected readonly canSend = computed(
    () =>
      !this.busy() && !this.streaming() && !this.tooLong() && this.badIds().size === 0 &&
      (this.text().trim().length > 0 || this.attachments().length > 0),
  );

  focus(): void {
    this.box().nativeElement.focus();
  }

  /** The server refused the last send: its text and attachments go back into the box. */
  restoreLast(): void {
    if (!this.lastSent) return;
    if (!this.text()) this.text.set(this.lastSent.text);
    if (!this.attachments().length) this.attachments.set(this.lastSent.attachments);
    this.lastSent = null;
    this.focus();
  }

  protected fmt(n: number): string {
    return new Intl.NumberFormat(this.lang.current()).format(n);
  }

  async addFiles(files: readonly File[]): Promise<void> {
    if (!files.length) return;
    this.busy.set(true);
    try {
      const { attachments, problems } = await prepareFiles(files, await this.knownModel(), this.attachments());
      this.attachments.update((list) => [...list, ...attachments]);
      this.problems.set(problems);
    } finally {
      this.busy.set(false);
    }
  }

  /**
   * Files can arrive before the model list has loaded (a file picked right after the page opens);
   * judging them against no model would refuse every one, so wait a little for it.
   */
  private knownModel(): Promise<PublicModel | undefined> {
    const model = this.model();
    if (model) return Promise.resolve(model);
    return firstValueFrom(this.model$.pipe(filter(Boolean), timeout({ first: 10_000, with: () => of(undefined) })));
  }

  protected picked(input: HTMLInputElement): void {
    const files = Array.from(input.files ?? []);
    input.value = '';
    void this.addFiles(files);
  }

  protected paste(event: ClipboardEvent): void {
    const files = Array.from(event.clipboardData?.files ?? []);
    if (files.length) {
      event.preventDefault();
      void this.addFiles(files);
    }
  }

  protected remove(id: string): void {
    this.attachments.update((list) => list.filter((a) => a.id !== id));
  }

  protected keydown(event: KeyboardEvent): void {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      this.submit();
    } else if (event.key === 'Escape' && this.streaming()) {
      event.preventDefault();
      this.stop.emit();
    }
  }

  protected submit(): void {
    if (!this.canSend()) return;
    const blocks = blocksOf(this.attachments(), this.text(), this.lang.instant('attach.documentOnlyText'));
    if (!blocks.length) return;
    this.lastSent = { text: this.text(), attachments: this.attachments() };
    this.send.emit(blocks);
    this.text.set('');
    this.attachments.set([]);
    this.problems.set([]);
    // A click on Send leaves focus on a button that is about to turn into Stop: back to the box.
    this.focus();
  }
}
