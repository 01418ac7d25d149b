import { Global, Module } from '@nestjs/common';
import { LimitsRepository } from './limits.repository.js';
import { LimitsService } from './limits.service.js';

/** Per-principal rate, concurrency, socket and storage limits (RATE_*). */
@Global()
@Module({ providers: [LimitsService, LimitsRepository], exports: [LimitsService] })
export class LimitsModule {}
