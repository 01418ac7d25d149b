import { Routes, UrlMatchResult, UrlSegment } from '@angular/router';
import { adminGuard } from './core/admin.guard';
import { authGuard, signedOutGuard } from './core/auth.guard';
import { CALLBACK_ROUTE } from './core/oidc-session.service';

/** `/chat` and `/chat/:id` share one route config, so the chat page is reused when the id changes. */
export function chatMatcher(segments: UrlSegment[]): UrlMatchResult | null {
  if (segments[0]?.path !== 'chat' || segments.length > 2) return null;
  return { consumed: segments, posParams: segments[1] ? { id: segments[1] } : {} } as UrlMatchResult;
}

export const routes: Routes = [
  { path: '', pathMatch: 'full', redirectTo: 'chat' },
  {
    path: 'sign-in',
    canActivate: [signedOutGuard],
    title: 'Switchboard',
    loadComponent: () => import('./features/auth/sign-in.page').then((m) => m.SignInPage),
  },
  {
    path: CALLBACK_ROUTE,
    title: 'Switchboard',
    loadComponent: () => import('./features/auth/auth-callback.page').then((m) => m.AuthCallbackPage),
  },
  {
    matcher: chatMatcher,
    canActivate: [authGuard],
    title: 'Switchboard',
    loadComponent: () => import('./features/chat/chat.page').then((m) => m.ChatPage),
  },
  {
    path: 'jobs',
    canActivate: [authGuard],
    title: 'Switchboard',
    loadComponent: () => import('./features/jobs/jobs.page').then((m) => m.JobsPage),
  },
  // Admins only (issue 15): who may spend what.
  {
    path: 'budgets',
    canActivate: [adminGuard],
    title: 'Switchboard',
    loadComponent: () => import('./features/budgets/budgets.page').then((m) => m.BudgetsPage),
  },
  {
    path: 'usage',
    canActivate: [adminGuard],
    title: 'Switchboard',
    loadComponent: () => import('./features/usage/usage.page').then((m) => m.UsagePage),
  },
  {
    // Admins only (issue 16): the live queue; its data comes over the admin-only /ops socket.
    path: 'operations',
    canActivate: [adminGuard],
    title: 'Switchboard',
    loadComponent: () => import('./features/operations/operations.page').then((m) => m.OperationsPage),
  },
  { path: '**', redirectTo: 'chat' },
];
