/** Only same-origin paths are followed after sign-in (no `//host` or absolute URLs). */
export function safeReturnUrl(target: string | undefined | null): string {
  return target && target.startsWith('/') && !target.startsWith('//') ? target : '/chat';
}
