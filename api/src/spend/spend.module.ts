import { Global, Module } from '@nestjs/common';
import { AdminGuard } from '../auth/admin.guard.js';
import { MeUsageController, SpendAdminController } from './spend.controller.js';
import { SpendRepository } from './spend.repository.js';
import { SpendService } from './spend.service.js';

/** Usage ledger reports, budgets and weighted shares (admin), and the caller's own usage. */
@Global()
@Module({ controllers: [MeUsageController, SpendAdminController], providers: [SpendRepository, SpendService, AdminGuard], exports: [SpendService] })
export class SpendModule {}
