import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@switchboard/server-core';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../common/app-error.js';
import { APP_CONFIG } from '../config/tokens.js';

/** Admin routes: members of AUTH_ADMIN_GROUP only (403 otherwise). */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const principal = context.switchToHttp().getRequest<{ user?: Principal }>().user;
    if (!principal?.groups.includes(this.config.auth.adminGroup)) {
      throw new AppError('forbidden', `Only members of "${this.config.auth.adminGroup}" may do this`);
    }
    return true;
  }
}
