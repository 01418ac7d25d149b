import type { AppConfig } from '@switchboard/server-core';
import type { Principal } from '../auth/principal.js';

/** Admins are the members of AUTH_ADMIN_GROUP (local mode: the names in AUTH_LOCAL_ADMINS). */
export function isAdmin(principal: Principal, config: AppConfig): boolean {
  return principal.kind === 'person' && principal.groups.includes(config.auth.adminGroup);
}
