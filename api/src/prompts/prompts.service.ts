import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { type Prompt, type PromptCreate, type PromptLocale, promptLocales, type PromptUpdate } from '@switchboard/contracts';
import type { PromptRow } from '@switchboard/server-core';
import { AppError, notFound } from '../common/app-error.js';
import { isUuid } from '../common/ids.js';
import { presetIdPrefix, presets } from './presets.js';
import { PromptsRepository } from './prompts.repository.js';

@Injectable()
export class PromptsService {
  constructor(private readonly repository: PromptsRepository) {}

  /** The presets in the locale, then the caller's own prompts (all locales: they wrote them). */
  async list(owner: string, locale: PromptLocale): Promise<Prompt[]> {
    const builtIn: Prompt[] = presets.map((p) => ({ id: presetIdPrefix + p.slug, ...p[locale], locale, owner: 'system' }));
    const own = await this.repository.list(owner);
    return [...builtIn, ...own.map(toPrompt)];
  }

  async create(owner: string, input: PromptCreate): Promise<Prompt> {
    const row = await this.repository.insert({
      id: randomUUID(),
      owner,
      title: input.title,
      systemPrompt: input.systemPrompt,
      tags: input.tags,
      locale: input.locale ?? null,
    });
    return toPrompt(row);
  }

  async update(owner: string, id: string, patch: PromptUpdate): Promise<Prompt> {
    this.refuseBuiltIn(id);
    const row = isUuid(id) ? await this.repository.update(owner, id, patch) : undefined;
    if (!row) throw notFound('Prompt');
    return toPrompt(row);
  }

  async delete(owner: string, id: string): Promise<void> {
    this.refuseBuiltIn(id);
    if (!isUuid(id) || !(await this.repository.delete(owner, id))) throw notFound('Prompt');
  }

  private refuseBuiltIn(id: string) {
    if (presets.some((p) => presetIdPrefix + p.slug === id)) throw new AppError('forbidden', 'Built-in prompts cannot be changed');
  }
}

/** `?locale=` wins; else the first Accept-Language entry we have; else English. */
export function pickLocale(query: PromptLocale | undefined, acceptLanguage: string | undefined): PromptLocale {
  if (query) return query;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]!.trim().toLowerCase();
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
    const exact = promptLocales.find((l) => l.toLowerCase() === tag);
    if (exact) return exact;
  }
  return 'en';
}

function toPrompt(row: PromptRow): Prompt {
  return {
    id: row.id,
    title: row.title,
    systemPrompt: row.systemPrompt,
    tags: row.tags,
    locale: (row.locale as PromptLocale | null) ?? null,
    owner: 'me',
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
