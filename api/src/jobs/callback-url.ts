import { CallbackTargetError, checkCallbackUrl } from '@switchboard/server-core';
import { AppError } from '../common/app-error.js';

/** A job's or batch's `callbackUrl` may be called (see checkCallbackUrl), else 400 `validation_failed` on it. */
export async function assertCallbackUrl(url: string | undefined, allowPrivate: boolean): Promise<void> {
  if (!url) return;
  try {
    await checkCallbackUrl(url, allowPrivate);
  } catch (err) {
    if (!(err instanceof CallbackTargetError)) throw err;
    throw new AppError('validation_failed', err.message, [{ path: 'callbackUrl', message: err.message, range: err.range }]);
  }
}
