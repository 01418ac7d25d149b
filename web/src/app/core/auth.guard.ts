import { inject } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { AuthStore } from './auth.store';

export const authGuard: CanActivateFn = (_route, state) => {
  const auth = inject(AuthStore);
  if (auth.isFresh()) return true;
  return inject(Router).createUrlTree(['/sign-in'], { queryParams: state.url !== '/chat' ? { returnUrl: state.url } : {} });
};

export const signedOutGuard: CanActivateFn = () => {
  const auth = inject(AuthStore);
  return auth.isFresh() ? inject(Router).createUrlTree(['/chat']) : true;
};
