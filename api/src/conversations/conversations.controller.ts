import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  type ConversationCreate,
  conversationCreateSchema,
  type ConversationListQuery,
  conversationListQuerySchema,
  type ConversationUpdate,
  conversationUpdateSchema,
} from '@switchboard/contracts';
import { CurrentPrincipal, PeopleOnly, type Principal } from '../auth/principal.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { toConversation } from './conversations.repository.js';
import { ConversationsService } from './conversations.service.js';

/** A person's own data: client-credentials tokens get 403. */
@PeopleOnly()
@Controller('v1/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

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
    return toConversation(await this.conversations.create(principal.sub, body));
  }

  @Get(':id')
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.conversations.get(principal.sub, id);
  }

  @Patch(':id')
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body(new ZodValidationPipe(conversationUpdateSchema)) body: ConversationUpdate,
  ) {
    return this.conversations.update(principal.sub, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    await this.conversations.delete(principal.sub, id);
  }
}
