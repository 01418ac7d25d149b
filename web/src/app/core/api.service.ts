import { HttpClient, HttpParams } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import type {
  ClientConfig,
  Conversation,
  ConversationCreate,
  ConversationPage,
  ConversationUpdate,
  ConversationWithMessages,
  DevTokenResponse,
  Job,
  JobPage,
  JobStatusValue,
  Me,
  Prompt,
  PromptCreate,
  PromptLocale,
  PromptUpdate,
  PublicModel,
  SummarizeRequest,
} from '@switchboard/contracts';

/** Thin typed client for the REST API (same origin). Errors surface as HttpErrorResponse. */
@Injectable({ providedIn: 'root' })
export class ApiService {
  private readonly http = inject(HttpClient);

  clientConfig(): Promise<ClientConfig> {
    return firstValueFrom(this.http.get<ClientConfig>('/v1/client-config'));
  }

  devToken(username: string): Promise<DevTokenResponse> {
    return firstValueFrom(this.http.post<DevTokenResponse>('/v1/auth/dev-token', { username }));
  }

  me(): Promise<Me> {
    return firstValueFrom(this.http.get<Me>('/v1/me'));
  }

  models(): Promise<PublicModel[]> {
    return firstValueFrom(this.http.get<PublicModel[]>('/v1/models'));
  }

  listConversations(query: { limit?: number; cursor?: string | null; q?: string }): Promise<ConversationPage> {
    let params = new HttpParams().set('limit', String(query.limit ?? 30));
    if (query.cursor) params = params.set('cursor', query.cursor);
    if (query.q) params = params.set('q', query.q);
    return firstValueFrom(this.http.get<ConversationPage>('/v1/conversations', { params }));
  }

  createConversation(body: ConversationCreate): Promise<Conversation> {
    return firstValueFrom(this.http.post<Conversation>('/v1/conversations', body));
  }

  getConversation(id: string): Promise<ConversationWithMessages> {
    return firstValueFrom(this.http.get<ConversationWithMessages>(`/v1/conversations/${encodeURIComponent(id)}`));
  }

  updateConversation(id: string, body: ConversationUpdate): Promise<Conversation> {
    return firstValueFrom(this.http.patch<Conversation>(`/v1/conversations/${encodeURIComponent(id)}`, body));
  }

  deleteConversation(id: string): Promise<void> {
    return firstValueFrom(this.http.delete<void>(`/v1/conversations/${encodeURIComponent(id)}`));
  }

  /** `Idempotency-Key` makes a retried submission return the same job. */
  submitSummarize(body: SummarizeRequest, idempotencyKey: string): Promise<Job> {
    return firstValueFrom(this.http.post<Job>('/v1/jobs/summarize', body, { headers: { 'Idempotency-Key': idempotencyKey } }));
  }

  listJobs(query: { status?: JobStatusValue; limit?: number; cursor?: string | null }): Promise<JobPage> {
    let params = new HttpParams().set('limit', String(query.limit ?? 20));
    if (query.status) params = params.set('status', query.status);
    if (query.cursor) params = params.set('cursor', query.cursor);
    return firstValueFrom(this.http.get<JobPage>('/v1/jobs', { params }));
  }

  getJob(id: string): Promise<Job> {
    return firstValueFrom(this.http.get<Job>(`/v1/jobs/${encodeURIComponent(id)}`));
  }

  cancelJob(id: string): Promise<Job> {
    return firstValueFrom(this.http.delete<Job>(`/v1/jobs/${encodeURIComponent(id)}`));
  }

  listPrompts(locale: PromptLocale): Promise<Prompt[]> {
    return firstValueFrom(this.http.get<Prompt[] | { items: Prompt[] }>('/v1/prompts', { params: { locale } })).then((r) =>
      Array.isArray(r) ? r : r.items,
    );
  }

  createPrompt(body: PromptCreate): Promise<Prompt> {
    return firstValueFrom(this.http.post<Prompt>('/v1/prompts', body));
  }

  updatePrompt(id: string, body: PromptUpdate): Promise<Prompt> {
    return firstValueFrom(this.http.patch<Prompt>(`/v1/prompts/${encodeURIComponent(id)}`, body));
  }

  deletePrompt(id: string): Promise<void> {
    return firstValueFrom(this.http.delete<void>(`/v1/prompts/${encodeURIComponent(id)}`));
  }
}
