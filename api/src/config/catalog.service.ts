import { Inject, Injectable } from '@nestjs/common';
import { defaultModel, mayUseModel, type ModelEntry, type PublicModel } from '@switchboard/contracts';
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
    return this.models.map(publicModelOf);
  }

  default(): ModelEntry {
    return defaultModel(this.models);
  }

  /** What a caller in these groups may use (`allowedGroups`), as `GET /v1/models` lists it. */
  publicListFor(groups: readonly string[]): PublicModel[] {
    return this.models.filter((m) => mayUseModel(m, groups)).map(publicModelOf);
  }

  /** The catalog's default when the caller may use it, else the first model they may use. */
  defaultFor(groups: readonly string[]): ModelEntry {
    const fallback = this.default();
    if (mayUseModel(fallback, groups)) return fallback;
    const allowed = this.models.find((m) => mayUseModel(m, groups));
    if (!allowed) throw new AppError('model_not_allowed', 'No model of the catalog is open to your groups');
    return allowed;
  }

  /** `requireFor` the id when one is given, else `defaultFor`: the model a request without one gets. */
  modelFor(modelId: string | undefined, groups: readonly string[]): ModelEntry {
    return modelId === undefined ? this.defaultFor(groups) : this.requireFor(modelId, groups);
  }

  /** The model with this id when the caller's groups may use it: `model_not_found` / `model_not_allowed` otherwise. */
  requireFor(modelId: string, groups: readonly string[]): ModelEntry {
    const model = this.require(modelId);
    if (!mayUseModel(model, groups)) throw new AppError('model_not_allowed', `Your groups may not use ${model.name}`);
    return model;
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

/** Quota internals, token counting and the access list are the operator's business. */
const publicModelOf = ({ quota: _quota, allowedGroups: _groups, tokenizerRatio: _ratio, ...rest }: ModelEntry): PublicModel => rest;
