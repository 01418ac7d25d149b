import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { buildOpenApi } from '../src/docs/openapi.js';

/**
 * The OpenAPI document as tools see it (offline, no network): Redocly's `recommended` ruleset (the
 * engine of `redocly lint`) and swagger-parser's validation, with zero errors and zero warnings.
 */
describe('OpenAPI document', () => {
  const document = buildOpenApi();

  it('passes redocly lint (recommended) without errors or warnings', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: '/openapi.json', config });
    const shown = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location.map((l) => l.pointer).join(', ')}`);
    // Public probes answer nothing but 200 (or readyz's 503): no 4xx to document.
    const probes = ['/healthz', '/readyz', '/v1/client-config'].map((p) => `#/paths/${p.replaceAll('/', '~1')}/get/responses`);
    expect(shown.filter((line) => !(line.includes('operation-4xx-response') && probes.some((p) => line.endsWith(` at ${p}`))))).toEqual([]);
  });

  it('passes swagger-parser validate', async () => {
    // In its own Node process: swagger-parser loads an ES module through require(), which Node
    // does and Jest's module loader does not.
    const dir = mkdtempSync(join(tmpdir(), 'sb-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(document));
      const script = "const { default: SwaggerParser } = await import('@apidevtools/swagger-parser'); await SwaggerParser.validate(process.argv[1]); console.log('valid');";
      const apiDir = join(dirname(fileURLToPath(import.meta.url)), '..');
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, file], { cwd: apiDir });
      expect(stdout.trim()).toBe('valid');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('documents every route the API serves, each with an operationId and a description per response', () => {
    const paths = document.paths as Record<string, Record<string, { operationId?: string; responses?: Record<string, { description?: string }> }>>;
    for (const [path, methods] of [
      ['/v1/batches', ['post']],
      ['/v1/batches/{id}', ['get', 'delete']],
      ['/v1/batches/{id}/results', ['get']],
      ['/v1/jobs/{id}/deliveries', ['get', 'post']],
      ['/v1/admin/catalog/reload', ['post']],
    ] as const) {
      for (const method of methods) expect(paths[path]?.[method]?.operationId).toBeTruthy();
    }
    const ids = new Set<string>();
    for (const item of Object.values(paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') continue;
        expect(op.operationId).toBeTruthy();
        expect(ids.has(op.operationId!)).toBe(false);
        ids.add(op.operationId!);
        for (const response of Object.values(op.responses ?? {})) expect(response.description).toBeTruthy();
      }
    }
    expect(Object.keys(document.webhooks as object).sort()).toEqual(['batchEnded', 'jobEnded']);
  });
});
