import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@switchboard/server-core';
import { AppError } from '../common/app-error.js';
import { APP_CONFIG } from '../config/tokens.js';
import type { Principal } from './principal.js';

/**
 * Admin routes (`@UseGuards(AdminGuard)`): only members of AUTH_ADMIN_GROUP pass, others get 403.
 * Runs after the global JWT guard, so the principal is there.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const principal = context.switchToHttp().getRequest<{ user?: Principal }>().user;
    const group = this.config.auth.adminGroup;
    if (!principal?.groups.includes(group)) throw new AppError('forbidden', `Only members of "${group}" may use admin routes`);
    return true;
  }
}
