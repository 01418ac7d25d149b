import { inject } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { AuthStore } from './auth.store';
import { ClientConfigStore } from './client-config.store';

/**
 * Admin pages: signed in and a member of the admin group. Others land on the chat (the API
 * refuses them the data anyway; this only keeps them off a page they cannot use).
 */
export const adminGuard: CanActivateFn = async (_route, state) => {
  const auth = inject(AuthStore);
  const router = inject(Router);
  if (!auth.isFresh()) return router.createUrlTree(['/sign-in'], { queryParams: { returnUrl: state.url } });
  await Promise.all([inject(ClientConfigStore).load(), auth.me() ? undefined : auth.loadMe().catch(() => undefined)]);
  return auth.isAdmin() ? true : router.createUrlTree(['/chat']);
};
