import { ChangeDetectionStrategy, Component, output, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import type { JobDocument } from '@switchboard/contracts';
import { jobLimits as limits } from '@switchboard/contracts/constants';
import { TranslatePipe } from '@ngx-translate/core';
import { blobToBase64, documentAccept, documentFormatOf } from '../../shared/files';
import { IconComponent } from '../../shared/icon.component';

type PickedFile = { id: string; name: string; doc: JobDocument };
type FileProblem = { key: string; params: Record<string, string | number> };

let counter = 0;

/** The documents of a new job: picked files as chips, with what was refused and why. */
@Component({
  selector: 'sb-job-file-picker',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, TranslatePipe, IconComponent],
  styleUrl: './job-file-picker.component.scss',
  // Its parts are items of the form's column, as if written there.
  host: { style: 'display: contents' },
  template: `
    <div class="files">
      <input #file type="file" hidden multiple data-testid="job-file-input"
             [accept]="accept"
             (change)="picked(file)" />
      <button mat-stroked-button type="button" (click)="file.click()" data-testid="job-attach">
        <sb-icon name="attach" /> {{ 'jobs.addFiles' | translate }}
      </button>
      <span class="hint">{{ 'jobs.formats' | translate }}</span>
    </div>
    @if (files().length) {
      <ul class="chips" [attr.aria-label]="'jobs.files' | translate">
        @for (f of files(); track f.id) {
          <li class="chip" data-testid="job-file">
            <span class="name">{{ f.name }}</span>
            <button mat-icon-button type="button" class="small" (click)="remove(f.id)"
                    [attr.aria-label]="'attach.remove' | translate: { name: f.name }">
              <sb-icon name="close" />
            </button>
          </li>
        }
      </ul>
    }
    @if (problem(); as p) {
      <p class="error" role="alert" data-testid="job-file-error">{{ p.key | translate: p.params }}</p>
    }
  `,
})
export class JobFilePickerComponent {
  /** The user added or removed documents. */
  readonly changed = output<'added' | 'removed'>();
  readonly files = signal<PickedFile[]>([]);
  protected readonly problem = signal<FileProblem | null>(null);
  protected readonly accept = documentAccept;

  documents(): JobDocument[] {
    return this.files().map((f) => f.doc);
  }

  /** After a submission: no files, and no complaint about files that are gone. */
  clear(): void {
    this.files.set([]);
    this.problem.set(null);
  }

  protected async picked(input: HTMLInputElement): Promise<void> {
    const list = Array.from(input.files ?? []);
    input.value = '';
    this.problem.set(null);
    const added: PickedFile[] = [];
    for (const f of list) {
      const format = documentFormatOf(f.name);
      if (!format) {
        this.problem.set({ key: 'jobs.unsupported', params: { name: f.name } });
        continue;
      }
      if (this.files().length + added.length >= limits.maxDocuments) {
        this.problem.set({ key: 'jobs.tooManyFiles', params: { max: limits.maxDocuments } });
        break;
      }
      const data = await blobToBase64(f);
      if (data.length > limits.maxDocumentBase64Chars) {
        this.problem.set({ key: 'jobs.fileTooLarge', params: { name: f.name } });
        continue;
      }
      added.push({ id: `f-${++counter}`, name: f.name, doc: { name: f.name.slice(0, 200), format, data } });
    }
    if (added.length) {
      this.files.update((files) => [...files, ...added]);
      this.changed.emit('added');
    }
  }

  protected remove(id: string): void {
    this.files.update((files) => files.filter((f) => f.id !== id));
    this.changed.emit('removed');
  }
}
