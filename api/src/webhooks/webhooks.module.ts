import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksRepository } from './webhooks.repository.js';

@Module({
  imports: [JobsModule],
  controllers: [WebhooksController],
  providers: [WebhooksRepository],
})
export class WebhooksModule {}
