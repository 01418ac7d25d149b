import { HttpErrorResponse, HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { catchError, throwError } from 'rxjs';
import { AuthStore } from './auth.store';

const PUBLIC = ['/v1/client-config', '/v1/auth/dev-token'];

/** Adds the bearer token to API calls; a 401 sends the user back to sign-in. */
export const authInterceptor: HttpInterceptorFn = (req, next) => {
  const auth = inject(AuthStore);
  const isApi = req.url.startsWith('/v1/');
  const isPublic = PUBLIC.some((p) => req.url.startsWith(p));
  const token = auth.token();
  const request = isApi && !isPublic && token ? req.clone({ setHeaders: { Authorization: `Bearer ${token}` } }) : req;
  return next(request).pipe(
    catchError((err: unknown) => {
      if (isApi && !isPublic && err instanceof HttpErrorResponse && err.status === 401) auth.expire();
      return throwError(() => err);
    }),
  );
};
