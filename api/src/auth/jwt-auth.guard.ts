import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../common/app-error.js';
import { IS_PUBLIC, PEOPLE_ONLY, type Principal } from './principal.js';
import { TokenVerifier } from './token-verifier.service.js';

/**
 * Global guard: every route needs a verified bearer token unless marked @Public(); routes marked
 * @PeopleOnly() refuse client-credentials tokens with 403.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Sockets are authenticated per connection by the gateway's middleware.
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = context.switchToHttp().getRequest<{ headers: { authorization?: string }; user?: Principal }>();
    const token = /^Bearer ([A-Za-z0-9._~+/=-]{1,16384})$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) throw new AppError('unauthorized', 'A valid bearer token is required');
    const { principal } = await this.verifier.verify(token).catch(() => {
      throw new AppError('unauthorized', 'A valid bearer token is required');
    });
    req.user = principal;
    if (principal.kind === 'client' && this.reflector.getAllAndOverride<boolean>(PEOPLE_ONLY, targets)) {
      throw new AppError('forbidden', 'This route acts for a signed-in person; client-credentials tokens cannot use it');
    }
    return true;
  }
}
