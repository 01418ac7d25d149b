import { type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { AppConfig } from '@switchboard/server-core';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../common/app-error.js';
import { APP_CONFIG } from '../config/tokens.js';
import { requireJobScope } from './job-scopes.js';

const JOB_SCOPE = 'switchboard:jobScope';
/** The scope a service client needs for this route (people signed in to the portal pass). */
export const JobScope = (scope: 'jobs:read' | 'jobs:write') => SetMetadata(JOB_SCOPE, scope);

/** Runs after the global JWT guard, before the body is validated: 403 comes before 400. */
@Injectable()
export class JobScopeGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const scope = this.reflector.getAllAndOverride<'jobs:read' | 'jobs:write'>(JOB_SCOPE, [context.getHandler(), context.getClass()]);
    if (scope) requireJobScope(context.switchToHttp().getRequest<{ user: Principal }>().user, scope, this.config.auth.scopePrefix);
    return true;
  }
}

/** A clear 415 for bodies that are not JSON and 413 above JOBS_MAX_BODY_BYTES. */
@Injectable()
export class SubmitLimitsGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (!req.is('application/json')) {
      throw new AppError('unsupported_media_type', 'Send the job as application/json (documents as base64 in "documents")');
    }
    const length = Number(req.headers['content-length'] ?? 0);
    const limit = this.config.jobs.maxBodyBytes;
    if (length > limit) throw new AppError('payload_too_large', `Request body is ${length} bytes; the limit is ${limit} bytes`, { limit });
    return true;
  }
}
