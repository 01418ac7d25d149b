// Issue 11 item 7: how much an API process's memory rises while unauthenticated WebSocket
// connections each send one large frame. Prints the outcome of each connection and the API's RSS
// peak over its idle RSS; no assertion.
//   npm run build && node bench/socket-frames.mjs            # FRAMES=8 FRAME_MB=30 API_MAIN=api/dist/main.js
// DATABASE_URL is used when set, else embedded PGlite in a temporary directory. Needs Redis.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { io } from 'socket.io-client';

const apiMain = resolve(process.env.API_MAIN ?? 'api/dist/main.js');
const frames = Number(process.env.FRAMES ?? 8);
const frameMb = Number(process.env.FRAME_MB ?? 30);
const dataDir = mkdtempSync(join(tmpdir(), 'sb-frames-'));
const env = {
  PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', QUEUE_PREFIX: '{bench-frames}', BEDROCK_MODE: 'emulator',
  LOG_LEVEL: 'warn', WEB_DIST_DIR: join(dataDir, 'none'), ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
};
const child = spawn(process.execPath, [apiMain], { env, stdio: ['ignore', 'pipe', 'pipe'] });
let output = '';
const url = await new Promise((res, rej) => {
  const onData = (c) => { output += c; const m = /listening at (http:\S+)/.exec(output); if (m) res(m[1]); };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.once('exit', () => rej(new Error(output)));
});
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
await new Promise((r) => setTimeout(r, 1500));
const idle = rssMb();
let peak = idle;
const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 20);
// A Socket.IO CONNECT to a namespace that does not exist, padded: a server that accepts the frame
// answers CONNECT_ERROR ("4/nope…"); one that refuses it closes the connection.
const payload = `0/nope,${JSON.stringify({ pad: 'x'.repeat(frameMb * 1024 * 1024) })}`;
const outcomes = await Promise.all(
  Array.from({ length: frames }, () => new Promise((done) => {
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    socket.once('connect', () => {
      const engine = socket.io.engine;
      engine.on('message', (m) => typeof m === 'string' && m.startsWith('4/nope') && (done('accepted'), socket.close()));
      engine.once('close', (reason) => done(`closed (${reason})`));
      engine.send(payload);
    });
    socket.once('connect_error', (err) => done(`error ${err.message}`));
  })),
);
await new Promise((r) => setTimeout(r, 500));
clearInterval(sampler);
console.log(`${frames} unauthenticated connections × one ${frameMb} MB frame: ${JSON.stringify(outcomes)}`);
console.log(`API RSS idle ${idle.toFixed(0)} MB, peak ${peak.toFixed(0)} MB (+${(peak - idle).toFixed(0)} MB)`);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
rmSync(dataDir, { recursive: true, force: true });
