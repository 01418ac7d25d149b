import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AppError } from '../common/app-error.js';
import { IS_PUBLIC, type Principal } from './principal.js';
import { VerifiedTokens } from './verified-tokens.js';

/** Global guard: every route needs a verified bearer token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  private readonly verified = new VerifiedTokens();

  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    // Sockets are authenticated once per connection by the gateway's middleware.
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const req = context.switchToHttp().getRequest<{ headers: { authorization?: string }; user?: Principal }>();
    const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const known = token && this.verified.get(token);
    if (known) {
      req.user = known;
      return true;
    }
    const allowed = (await super.canActivate(context)) as boolean;
    if (allowed && token && req.user) this.verified.remember(token, req.user);
    return allowed;
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err || !user) throw new AppError('unauthorized', 'A valid bearer token is required');
    return user;
  }
}
