import type { AppConfig } from '@switchboard/server-core';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../common/app-error.js';

/** Admins are the members of AUTH_ADMIN_GROUP (local mode: the names in AUTH_LOCAL_ADMINS). */
export function isAdmin(principal: Principal, config: AppConfig): boolean {
  return principal.kind === 'person' && principal.groups.includes(config.auth.adminGroup);
}

export function assertAdmin(principal: Principal, config: AppConfig, what: string): void {
  if (!isAdmin(principal, config)) throw new AppError('forbidden', `${what} is for members of "${config.auth.adminGroup}"`);
}
