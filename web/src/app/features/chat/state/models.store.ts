import { Injectable, computed, inject, signal } from '@angular/core';
import type { PublicModel } from '@switchboard/contracts';
import { ApiService } from '../../../core/api.service';
import { errorKey, toUiError } from '../../../core/errors';

/** The models the user may chat with (the catalog's public view). */
@Injectable()
export class ModelsStore {
  private readonly api = inject(ApiService);

  readonly models = signal<PublicModel[]>([]);
  readonly modelsError = signal<string | null>(null);
  readonly defaultModel = computed<PublicModel | undefined>(() => this.models().find((m) => m.default) ?? this.models()[0]);

  /** The model of a message; messages without one were answered by the default. */
  modelOf(id: string | null | undefined): PublicModel | undefined {
    return this.models().find((m) => m.id === id) ?? (id ? undefined : this.defaultModel());
  }

  async load(): Promise<void> {
    try {
      this.models.set(await this.api.models());
      this.modelsError.set(null);
    } catch (err) {
      this.modelsError.set(errorKey(toUiError(err)));
    }
  }
}
