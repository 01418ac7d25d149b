import { VerifiedTokens } from './verified-tokens.js';

const principal = { sub: 's', username: 'u', groups: [], scopes: [], kind: 'person' as const };

describe('VerifiedTokens', () => {
  it('remembers a verified token until its exp, and only that exact token', () => {
    const cache = new VerifiedTokens();
    const verified = { principal, expiresAt: Date.now() + 60_000 };
    cache.remember('token', verified);
    expect(cache.get('token')).toEqual(verified);
    expect(cache.get('tokenx')).toBeUndefined();
  });

  it('never serves an expired token', () => {
    const cache = new VerifiedTokens();
    cache.remember('expired', { principal, expiresAt: Date.now() - 1 });
    expect(cache.get('expired')).toBeUndefined();
  });
});
