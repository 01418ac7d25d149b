import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { BatchesController } from './batches.controller.js';
import { BatchSubmitGuard } from './batches.guards.js';
import { BatchesRepository } from './batches.repository.js';
import { BatchesService } from './batches.service.js';

/** Bulk submissions: `/v1/batches`; the items are summarize jobs on the jobs module's queues. */
@Module({
  imports: [JobsModule],
  controllers: [BatchesController],
  providers: [BatchesService, BatchesRepository, BatchSubmitGuard],
})
export class BatchesModule {}
