import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import type { RedisClient as Redis } from '@switchboard/server-core';
import {
  type ConversationCreate,
  conversationCreateSchema,
  type ConversationListQuery,
  conversationListQuerySchema,
  type ConversationUpdate,
  conversationUpdateSchema,
  type ConversationUpdatedEvent,
} from '@switchboard/contracts';
import { type AppConfig, publishConversationUpdate } from '@switchboard/server-core';
import { APP_CONFIG } from '../config/tokens.js';
import { REDIS } from '../redis/redis.module.js';
import { CurrentPrincipal, PeopleOnly, type Principal } from '../auth/principal.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { toConversation } from './conversations.repository.js';
import { ConversationsService } from './conversations.service.js';

/** A person's own data: client-credentials tokens get 403. */
@PeopleOnly()
@Controller('v1/conversations')
export class ConversationsController {
  constructor(
    private readonly conversations: ConversationsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** Other tabs of the user refresh what they show (conversation:updated). */
  private notify(owner: string, payload: ConversationUpdatedEvent) {
    void publishConversationUpdate(this.redis, this.config.queuePrefix, owner, payload);
  }

  @Get()
  list(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodValidationPipe(conversationListQuerySchema)) query: ConversationListQuery,
  ) {
    return this.conversations.list(principal.sub, query);
  }

  @Post()
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodValidationPipe(conversationCreateSchema)) body: ConversationCreate,
  ) {
    const created = toConversation(await this.conversations.create(principal.sub, body, principal.groups));
    this.notify(principal.sub, { conversationId: created.id, change: 'created' });
    return created;
  }

  @Get(':id')
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.conversations.get(principal.sub, id);
  }

  @Patch(':id')
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body(new ZodValidationPipe(conversationUpdateSchema)) body: ConversationUpdate,
  ) {
    const updated = await this.conversations.update(principal.sub, id, body, principal.groups);
    this.notify(principal.sub, body.title !== undefined ? { conversationId: id, change: 'title', title: updated.title } : { conversationId: id, change: 'settings' });
    return updated;
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    await this.conversations.delete(principal.sub, id);
    this.notify(principal.sub, { conversationId: id, change: 'deleted' });
  }
}
