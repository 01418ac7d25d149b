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
  Me,
  PublicModel,
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
}
