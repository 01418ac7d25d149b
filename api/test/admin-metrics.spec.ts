import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { builtInCatalog } from '@switchboard/server-core';
import { startTestApi, type TestApi } from './support/test-api.js';

describe('catalog reload and quota metrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-catalog-'));
  const modelsFile = join(dir, 'models.json');
  let api: TestApi;
  let admin: string;
  let user: string;

  beforeAll(async () => {
    writeFileSync(modelsFile, JSON.stringify(builtInCatalog.slice(0, 2)));
    api = await startTestApi({ MODELS_FILE: modelsFile, AUTH_LOCAL_ADMINS: 'root' });
    admin = await api.token('root');
    user = await api.token('joe');
  });
  afterAll(() => api?.stop());

  it('lets only admins reload, applies a new catalog and keeps the old one when the file is bad', async () => {
    const forbidden = await request(api.url).post('/v1/admin/catalog/reload').set('authorization', `Bearer ${user}`).expect(403);
    expect(forbidden.body.error.code).toBe('forbidden');

    writeFileSync(modelsFile, JSON.stringify([{ ...builtInCatalog[0], quota: { requestsPerMinute: 7, tokensPerMinute: 7000 } }]));
    const reloaded = await request(api.url).post('/v1/admin/catalog/reload').set('authorization', `Bearer ${admin}`).expect(200);
    expect(reloaded.body.models).toEqual([builtInCatalog[0]!.id]);
    const models = await request(api.url).get('/v1/models').set('authorization', `Bearer ${user}`).expect(200);
    expect(models.body).toHaveLength(1);

    writeFileSync(modelsFile, '[{"id": "broken"}]');
    const bad = await request(api.url).post('/v1/admin/catalog/reload').set('authorization', `Bearer ${admin}`).expect(400);
    expect(bad.body.error.message).toMatch(/not a valid model catalog/);
    await request(api.url).get('/v1/models').set('authorization', `Bearer ${user}`).expect(200).expect((res) => expect(res.body).toHaveLength(1));

    const metrics = await request(api.url).get('/metrics').expect(200);
    expect(metrics.text).toContain(`switchboard_quota_limit{model="${builtInCatalog[0]!.id}",kind="requests"} 7`);
    for (const name of ['switchboard_quota_requests_in_window', 'switchboard_quota_waiting_chats', 'switchboard_quota_throttles', 'switchboard_queue_jobs']) {
      expect(metrics.text).toContain(`# TYPE ${name} gauge`);
    }
  });
});
