import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import {
  type AdminUsage,
  type AdminUsageQuery,
  adminUsageQuerySchema,
  type AuditPage,
  type AuditQuery,
  auditQuerySchema,
  type Budget,
  budgetCreateSchema,
  budgetPatchSchema,
  type MeUsage,
  type Share,
  shareCreateSchema,
  sharePatchSchema,
} from '@switchboard/contracts';
import { AuditService } from '../audit/audit.service.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { parseOrThrow, ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { AdminGuard } from '../auth/admin.guard.js';
import { toCsv } from './csv.js';
import { SpendService } from './spend.service.js';

/** Everyone: what I spent this month and the budgets that apply to me. */
@Controller('v1/me')
export class MeUsageController {
  constructor(private readonly spend: SpendService) {}

  @Get('usage')
  usage(@CurrentPrincipal() principal: Principal): Promise<MeUsage> {
    return this.spend.meUsage(principal);
  }
}

/** Admins (AUTH_ADMIN_GROUP): usage reports, budgets, shares of the quota, the audit log. */
@Controller('v1/admin')
@UseGuards(AdminGuard)
export class SpendAdminController {
  constructor(
    private readonly spend: SpendService,
    private readonly audit: AuditService,
  ) {}

  /** JSON, or CSV with `Accept: text/csv`. */
  @Get('usage')
  async usage(
    @Query(new ZodValidationPipe(adminUsageQuerySchema)) query: AdminUsageQuery,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AdminUsage | string> {
    const report = await this.spend.adminUsage(query);
    if (!/\btext\/csv\b/i.test(accept ?? '')) return report;
    res.setHeader('content-type', 'text/csv; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="usage-${report.groupBy}-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}.csv"`);
    return toCsv(
      [report.groupBy, 'calls', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'costUsd'],
      report.rows.map((r) => [r.key, r.calls, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheWriteTokens, r.costUsd]),
    );
  }

  @Get('budgets')
  budgets(): Promise<{ items: Budget[] }> {
    return this.spend.listBudgets();
  }

  @Post('budgets')
  @HttpCode(201)
  createBudget(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<Budget> {
    return this.spend.createBudget(principal, parseOrThrow(budgetCreateSchema, body));
  }

  @Patch('budgets/:id')
  updateBudget(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown): Promise<Budget> {
    return this.spend.updateBudget(principal, id, parseOrThrow(budgetPatchSchema, body));
  }

  @Delete('budgets/:id')
  @HttpCode(204)
  async deleteBudget(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    await this.spend.deleteBudget(principal, id);
  }

  @Get('shares')
  shares(): Promise<{ items: Share[] }> {
    return this.spend.listShares();
  }

  @Post('shares')
  @HttpCode(201)
  createShare(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<Share> {
    return this.spend.createShare(principal, parseOrThrow(shareCreateSchema, body));
  }

  @Patch('shares/:id')
  updateShare(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown): Promise<Share> {
    return this.spend.updateShare(principal, id, parseOrThrow(sharePatchSchema, body));
  }

  @Delete('shares/:id')
  @HttpCode(204)
  async deleteShare(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    await this.spend.deleteShare(principal, id);
  }

  @Get('audit')
  auditLog(@Query(new ZodValidationPipe(auditQuerySchema)) query: AuditQuery): Promise<AuditPage> {
    return this.audit.list(query);
  }
}
