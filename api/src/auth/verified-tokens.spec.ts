import { VerifiedTokens } from './verified-tokens.js';

const tokenWith = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;
const principal = { sub: 's', username: 'u', groups: [], scopes: [] };

describe('VerifiedTokens', () => {
  it('remembers a verified token until its exp, and only that exact token', () => {
    const cache = new VerifiedTokens();
    const token = tokenWith({ exp: Math.floor(Date.now() / 1000) + 60 });
    cache.remember(token, principal);
    expect(cache.get(token)).toEqual(principal);
    expect(cache.get(`${token}x`)).toBeUndefined();
  });

  it('never serves an expired token or one without exp', () => {
    const cache = new VerifiedTokens();
    const expired = tokenWith({ exp: Math.floor(Date.now() / 1000) - 1 });
    const noExp = tokenWith({ sub: 's' });
    cache.remember(expired, principal);
    cache.remember(noExp, principal);
    cache.remember('garbage', principal);
    expect(cache.get(expired)).toBeUndefined();
    expect(cache.get(noExp)).toBeUndefined();
    expect(cache.get('garbage')).toBeUndefined();
  });
});
