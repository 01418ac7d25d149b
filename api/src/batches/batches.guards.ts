import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { AppConfig } from '@switchboard/server-core';
import { AppError } from '../common/app-error.js';
import { APP_CONFIG } from '../config/tokens.js';

/** A clear 415 for bodies that are neither JSON nor JSONL, and 413 above JOBS_MAX_BODY_BYTES. */
@Injectable()
export class BatchSubmitGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (!req.is('application/json') && !req.is('application/x-ndjson')) {
      throw new AppError('unsupported_media_type', 'Send the batch as application/json ({ "items": [...] }) or application/x-ndjson (one item a line)');
    }
    const length = Number(req.headers['content-length'] ?? 0);
    const limit = this.config.jobs.maxBodyBytes;
    if (length > limit) throw new AppError('payload_too_large', `Request body is ${length} bytes; the limit is ${limit} bytes (JOBS_MAX_BODY_BYTES)`, { limit });
    return true;
  }
}
