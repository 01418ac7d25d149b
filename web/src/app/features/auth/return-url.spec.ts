import { safeReturnUrl } from './return-url';

describe('safeReturnUrl', () => {
  it('follows same-origin paths', () => {
    expect(safeReturnUrl('/jobs')).toBe('/jobs');
    expect(safeReturnUrl('/chat/3f1c?x=1')).toBe('/chat/3f1c?x=1');
  });

  it('refuses other origins and nothing at all, going to the chat instead', () => {
    for (const target of ['//evil.example/x', 'https://evil.example/', 'javascript:alert(1)', '', undefined, null]) {
      expect(safeReturnUrl(target)).toBe('/chat');
    }
  });
});
