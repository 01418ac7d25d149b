import request from 'supertest';
import { startTestApi, type TestApi } from '../support/test-api.js';

/** Issue 11, item 10 (API side): every IPv6 form of a private IPv4 address is refused as a callback target. */
describe('security: callback targets in IPv4-compatible and -mapped IPv6 forms', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    api = await startTestApi(); // WEBHOOK_ALLOW_PRIVATE is off by default
    token = await api.token('hook-client', { scopes: ['jobs:write'] });
  }, 60_000);
  afterAll(async () => {
    await api?.stop();
  });

  it.each([
    'http://[::127.0.0.1]/hook',
    'http://[::7f00:1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:7f00:1]/hook',
    'http://[0:0:0:0:0:ffff:7f00:1]/hook',
    'http://[::ffff:0:7f00:1]/hook',
    'http://[::10.0.0.1]/hook',
    'http://[::ffff:a9fe:a9fe]/hook',
    'http://[::169.254.169.254]/hook',
    'http://[::192.168.1.1]:8080/hook',
    'http://[::8.8.8.8]/hook',
  ])('%s → 400 validation_failed on callbackUrl', async (callbackUrl) => {
    const res = await request(api.url).post('/v1/jobs/summarize').set('authorization', `Bearer ${token}`).send({ text: 'hi', callbackUrl });
    expect({ status: res.status, code: res.body.error?.code, path: res.body.error?.details?.[0]?.path }).toEqual({
      status: 400,
      code: 'validation_failed',
      path: 'callbackUrl',
    });
  });

  it('a public IPv6 address is still accepted', async () => {
    await request(api.url).post('/v1/jobs/summarize').set('authorization', `Bearer ${token}`).send({ text: 'hi', callbackUrl: 'http://[2606:4700:4700::1111]/hook' }).expect(202);
  });
});
