import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const adminDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const testRedisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh PostgreSQL database for one test file, so suites never share state. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `sb_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`drop database if exists ${name} with (force)`) };
}

/** A fresh queue prefix (a Redis hash tag), as BullMQ's own tests use a fresh queue per test. */
export const testQueuePrefix = () => `{t-${randomBytes(4).toString('hex')}}`;

async function adminQuery(sql: string) {
  const client = new pg.Client({ connectionString: adminDatabaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
export * from './tcp-proxy.js';
export * from './redis-cluster.js';
export * from './prometheus.js';
