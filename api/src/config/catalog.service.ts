import { Inject, Injectable } from '@nestjs/common';
import { defaultModel, type ModelEntry, type PublicModel } from '@switchboard/contracts';
import { type AppConfig, loadCatalog } from '@switchboard/server-core';
import { AppError } from '../common/app-error.js';
import { APP_CONFIG } from './tokens.js';

/** The model catalog, reloadable without a restart. */
@Injectable()
export class CatalogService {
  private models: ModelEntry[];

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.models = loadCatalog(config.modelsFile, config.modelsJson);
  }

  list(): readonly ModelEntry[] {
    return this.models;
  }

  publicList(): PublicModel[] {
    return this.models.map(({ quota: _quota, ...rest }) => rest);
  }

  default(): ModelEntry {
    return defaultModel(this.models);
  }

  /** The model with this id, or a `model_not_found` error. */
  require(modelId: string): ModelEntry {
    const model = this.models.find((m) => m.id === modelId);
    if (!model) throw new AppError('model_not_found', `Unknown model "${modelId}"; valid ids: ${this.models.map((m) => m.id).join(', ')}`, { modelId, validModelIds: this.models.map((m) => m.id) });
    return model;
  }

  reload(): void {
    this.models = loadCatalog(this.config.modelsFile, this.config.modelsJson);
  }
}
