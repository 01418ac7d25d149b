/**
 * The API half of issue 19's bare pipeline (bench:chat, BENCH_BARE): the product's architecture with
 * nothing else. chat:send → one Postgres insert → subscribe to the job's channel → BullMQ add → ack;
 * each channel message → one socket event. No auth, limits, conversations, history, quota or
 * status: the floor the product's own path is measured against, on the same machine and load.
 * Env: REDIS_URL, DATABASE_URL, PORT (0: any). Prints "listening on <url>".
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Server } from 'socket.io';
import { jobChannel, jobChannelPattern } from '@switchboard/server-core';

const redis = new Redis(process.env.REDIS_URL);
const subscriber = new Redis(process.env.REDIS_URL);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
await pool.query('create table if not exists bare_turns (id uuid primary key, owner text not null, content jsonb not null, created_at timestamptz not null default now())');
const queue = new Queue('chat', { connection: redis, prefix: '{bare}' });

/** The socket waiting for each job's entries. */
const watchers = new Map();
subscriber.on('message', (channel, payload) => {
  const jobId = jobChannelPattern.exec(channel)?.[1];
  const socket = jobId && watchers.get(jobId);
  if (!socket) return;
  const entry = JSON.parse(payload);
  if (entry.kind === 'delta') return void socket.emit('chat:delta', { jobId, seq: entry.seq, text: entry.text });
  socket.emit('chat:done', { jobId, ...entry.event });
  watchers.delete(jobId);
  void subscriber.unsubscribe(channel);
});

const http = createServer();
const io = new Server(http, { transports: ['websocket'] });
io.of('/chat').on('connection', (socket) => {
  const owner = socket.id;
  socket.on('chat:send', async (payload, ack) => {
    const text = payload?.content?.[0]?.text;
    if (typeof ack !== 'function') return;
    if (typeof text !== 'string') return ack({ ok: false, error: { code: 'bad_request', message: 'content[0].text' } });
    try {
      const jobId = randomUUID();
      await pool.query('insert into bare_turns (id, owner, content) values ($1, $2, $3)', [jobId, owner, JSON.stringify(payload.content)]);
      watchers.set(jobId, socket);
      await subscriber.subscribe(jobChannel(jobId));
      await queue.add('chat', { jobId, text }, { jobId, removeOnComplete: true, removeOnFail: true });
      ack({ ok: true, jobId });
    } catch (err) {
      ack({ ok: false, error: { code: 'unavailable', message: String(err) } });
    }
  });
});
http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${http.address().port}`));
process.on('SIGTERM', async () => {
  io.close();
  await Promise.allSettled([queue.close(), pool.end()]);
  redis.disconnect();
  subscriber.disconnect();
  process.exit(0);
});
