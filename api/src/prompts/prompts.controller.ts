import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  type PromptCreate,
  promptCreateSchema,
  type PromptListQuery,
  promptListQuerySchema,
  type PromptUpdate,
  promptUpdateSchema,
} from '@switchboard/contracts';
import { CurrentPrincipal, PeopleOnly, type Principal } from '../auth/principal.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { pickLocale, PromptsService } from './prompts.service.js';

/** A person's own data: client-credentials tokens get 403. */
@PeopleOnly()
@Controller('v1/prompts')
export class PromptsController {
  constructor(private readonly prompts: PromptsService) {}

  @Get()
  list(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodValidationPipe(promptListQuerySchema)) query: PromptListQuery,
    @Headers('accept-language') acceptLanguage?: string,
  ) {
    return this.prompts.list(principal.sub, pickLocale(query.locale, acceptLanguage));
  }

  @Post()
  create(@CurrentPrincipal() principal: Principal, @Body(new ZodValidationPipe(promptCreateSchema)) body: PromptCreate) {
    return this.prompts.create(principal.sub, body);
  }

  @Patch(':id')
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body(new ZodValidationPipe(promptUpdateSchema)) body: PromptUpdate,
  ) {
    return this.prompts.update(principal.sub, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    await this.prompts.delete(principal.sub, id);
  }
}
