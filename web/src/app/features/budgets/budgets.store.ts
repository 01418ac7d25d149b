import { Injectable, inject, signal } from '@angular/core';
import type { Budget, BudgetCreate, BudgetPatch } from '@switchboard/contracts';
import { errorKey, toUiError } from '../../core/errors';
import { UsageApiService } from '../../core/usage-api.service';

/** The budgets admins set (`/v1/admin/budgets`), sorted by scope and subject. */
@Injectable()
export class BudgetsStore {
  private readonly api = inject(UsageApiService);

  readonly items = signal<Budget[]>([]);
  readonly loading = signal(false);
  readonly error = signal<string | null>(null);

  async load(): Promise<void> {
    this.loading.set(true);
    try {
      this.items.set(sorted(await this.api.listBudgets()));
      this.error.set(null);
    } catch (err) {
      this.error.set(errorKey(toUiError(err)));
    } finally {
      this.loading.set(false);
    }
  }

  async create(body: BudgetCreate): Promise<Budget> {
    const b = await this.api.createBudget(body);
    this.items.update((items) => sorted([...items.filter((i) => i.id !== b.id), b]));
    return b;
  }

  async update(id: string, patch: BudgetPatch): Promise<Budget> {
    const b = await this.api.updateBudget(id, patch);
    this.items.update((items) => sorted(items.map((i) => (i.id === id ? b : i))));
    return b;
  }

  async remove(id: string): Promise<void> {
    try {
      await this.api.deleteBudget(id);
    } catch (err) {
      // Gone already (another admin): the list just follows.
      if (toUiError(err).code !== 'not_found') throw err;
    }
    this.items.update((items) => items.filter((i) => i.id !== id));
  }
}

const scopeOrder = { user: 0, group: 1, client: 2 } as const;

function sorted(items: Budget[]): Budget[] {
  return [...items].sort((a, b) => scopeOrder[a.scope] - scopeOrder[b.scope] || a.subject.localeCompare(b.subject) || a.period.localeCompare(b.period));
}
