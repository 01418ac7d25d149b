import { timingSafeEqual } from 'node:crypto';
import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { AppConfig } from '@switchboard/server-core';
import { Public } from '../auth/principal.js';
import { AppError } from '../common/app-error.js';
import { APP_CONFIG } from '../config/tokens.js';
import { MetricsService } from './metrics.service.js';

@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Prometheus text format; needs `Authorization: Bearer $METRICS_TOKEN` when that is set. */
  @Get()
  scrape(@Res({ passthrough: true }) res: Response, @Headers('authorization') authorization?: string): Promise<string> {
    const expected = this.config.metricsToken;
    if (expected !== undefined && !sameSecret(/^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '', expected)) {
      throw new AppError('unauthorized', 'Metrics need Authorization: Bearer <METRICS_TOKEN>');
    }
    // Set here, not with @Header: that would also label the JSON error body text/plain.
    res.setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    return this.metrics.scrape();
  }
}

/** Constant-time comparison, so response timing does not reveal how much of the token matched. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
