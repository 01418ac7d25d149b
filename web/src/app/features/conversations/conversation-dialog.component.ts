import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { FormControl, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogModule, MatDialogRef } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { TranslatePipe } from '@ngx-translate/core';

export type ConversationDialogData = { mode: 'rename' | 'delete'; title: string };

/** Rename (returns the new title) or confirm deletion (returns true). */
@Component({
  selector: 'sb-conversation-dialog',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ReactiveFormsModule, MatDialogModule, MatButtonModule, MatFormFieldModule, MatInputModule, TranslatePipe],
  styles: `mat-form-field { width: 100%; } .title { font-weight: 600; overflow-wrap: anywhere; }`,
  template: `
    @if (data.mode === 'rename') {
      <form (submit)="$event.preventDefault(); save()">
        <h2 mat-dialog-title>{{ 'conversations.renameTitle' | translate }}</h2>
        <mat-dialog-content>
          <mat-form-field appearance="outline">
            <mat-label>{{ 'conversations.titleLabel' | translate }}</mat-label>
            <input matInput [formControl]="title" data-testid="rename-input" cdkFocusInitial maxlength="200" />
          </mat-form-field>
        </mat-dialog-content>
        <mat-dialog-actions align="end">
          <button mat-button type="button" mat-dialog-close data-testid="dialog-cancel">{{ 'common.cancel' | translate }}</button>
          <button mat-flat-button type="submit" [disabled]="title.invalid" data-testid="dialog-confirm">{{ 'common.save' | translate }}</button>
        </mat-dialog-actions>
      </form>
    } @else {
      <h2 mat-dialog-title>{{ 'conversations.deleteTitle' | translate }}</h2>
      <mat-dialog-content>
        <p>{{ 'conversations.deleteConfirm' | translate }}</p>
        <p class="title">{{ data.title }}</p>
      </mat-dialog-content>
      <mat-dialog-actions align="end">
        <button mat-button type="button" mat-dialog-close cdkFocusInitial data-testid="dialog-cancel">{{ 'common.cancel' | translate }}</button>
        <button mat-flat-button type="button" [mat-dialog-close]="true" data-testid="dialog-confirm">{{ 'common.delete' | translate }}</button>
      </mat-dialog-actions>
    }
  `,
})
export class ConversationDialogComponent {
  protected readonly data = inject<ConversationDialogData>(MAT_DIALOG_DATA);
  private readonly ref = inject(MatDialogRef<ConversationDialogComponent, string | boolean>);
  protected readonly title = new FormControl(this.data.title, {
    nonNullable: true,
    validators: [Validators.required, Validators.maxLength(200), Validators.pattern(/\S/)],
  });

  protected save(): void {
    if (this.title.valid) this.ref.close(this.title.value.trim());
  }
}
