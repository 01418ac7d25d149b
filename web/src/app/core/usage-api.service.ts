import { HttpClient, HttpParams } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import type { AdminUsage, Budget, BudgetCreate, BudgetPatch, MeUsage, Share, ShareCreate, UsageGroupBy } from '@switchboard/contracts';
import { firstValueFrom } from 'rxjs';

/** `from`/`to` as days (`YYYY-MM-DD`, UTC); `to` is exclusive like the API's. */
export type UsageQuery = { from: string; to: string; groupBy: UsageGroupBy };

/** REST calls for spend and budgets: the caller's own usage, and the admin routes of issue 15. */
@Injectable({ providedIn: 'root' })
export class UsageApiService {
  private readonly http = inject(HttpClient);

  meUsage(): Promise<MeUsage> {
    return firstValueFrom(this.http.get<MeUsage>('/v1/me/usage'));
  }

  adminUsage(q: UsageQuery): Promise<AdminUsage> {
    return firstValueFrom(this.http.get<AdminUsage>('/v1/admin/usage', { params: usageParams(q) }));
  }

  /** The same rows as CSV (the API's own rendering, for spreadsheets). */
  adminUsageCsv(q: UsageQuery): Promise<string> {
    return firstValueFrom(this.http.get('/v1/admin/usage', { params: usageParams(q), headers: { Accept: 'text/csv' }, responseType: 'text' }));
  }

  listBudgets(): Promise<Budget[]> {
    return firstValueFrom(this.http.get<{ items: Budget[] }>('/v1/admin/budgets')).then((r) => r.items);
  }

  createBudget(body: BudgetCreate): Promise<Budget> {
    return firstValueFrom(this.http.post<Budget>('/v1/admin/budgets', body));
  }

  updateBudget(id: string, body: BudgetPatch): Promise<Budget> {
    return firstValueFrom(this.http.patch<Budget>(`/v1/admin/budgets/${encodeURIComponent(id)}`, body));
  }

  deleteBudget(id: string): Promise<void> {
    return firstValueFrom(this.http.delete<void>(`/v1/admin/budgets/${encodeURIComponent(id)}`));
  }

  listShares(): Promise<Share[]> {
    return firstValueFrom(this.http.get<{ items: Share[] }>('/v1/admin/shares')).then((r) => r.items);
  }

  createShare(body: ShareCreate): Promise<Share> {
    return firstValueFrom(this.http.post<Share>('/v1/admin/shares', body));
  }

  deleteShare(id: string): Promise<void> {
    return firstValueFrom(this.http.delete<void>(`/v1/admin/shares/${encodeURIComponent(id)}`));
  }
}

function usageParams(q: UsageQuery): HttpParams {
  return new HttpParams().set('from', q.from).set('to', q.to).set('groupBy', q.groupBy);
}
