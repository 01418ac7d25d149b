import request from 'supertest';
import { loadConfig } from '@switchboard/server-core';
import { startTcpProxy, type TcpProxy } from '@switchboard/testing';
import { startTestApi, type TestApi } from '../support/test-api.js';

const metricsToken = 'scrape-7f3c2a9d41b8e6f0';

describe('security 11: operational endpoints', () => {
  describe('/metrics with METRICS_TOKEN', () => {
    let api: TestApi;
    beforeAll(async () => {
      api = await startTestApi({ METRICS_TOKEN: metricsToken });
    });
    afterAll(() => api?.stop());

    it('needs the bearer token: 401 without it or with a wrong one', async () => {
      for (const authorization of [undefined, 'Bearer wrong', `Bearer ${metricsToken}x`, `Basic ${metricsToken}`, metricsToken]) {
        const req = request(api.url).get('/metrics');
        const res = await (authorization ? req.set('authorization', authorization) : req);
        expect({ authorization, status: res.status, code: res.body?.error?.code }).toEqual({ authorization, status: 401, code: 'unauthorized' });
        expect(res.text).not.toContain('switchboard_');
      }
      const ok = await request(api.url).get('/metrics').set('authorization', `Bearer ${metricsToken}`).expect(200);
      expect(ok.text).toContain('switchboard_');
    });

    it('refuses a METRICS_TOKEN too short to be a secret', () => {
      expect(() => loadConfig({ HOME: '/nonexistent', METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    });
  });

  describe('/readyz', () => {
    let proxy: TcpProxy;
    let api: TestApi;
    beforeAll(async () => {
      proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
      api = await startTestApi((databaseUrl) => {
        const url = new URL(databaseUrl);
        url.host = `127.0.0.1:${proxy.port}`;
        return { DATABASE_URL: url.toString() };
      });
    });
    afterAll(async () => {
      proxy?.restore();
      await api?.stop();
      await proxy?.close();
    });

    it('says ready or not, naming what is down without any error text', async () => {
      await request(api.url).get('/readyz').expect(200, { status: 'ok', checks: { redis: 'ok', database: 'ok' } });
      proxy.cut();
      const down = await request(api.url).get('/readyz').expect(503);
      expect(down.body).toEqual({ status: 'unavailable', checks: { redis: 'ok', database: 'down' } });
      proxy.restore();
    });
  });
});
