#!/usr/bin/env node
/**
 * Top self-time functions per process from V8 `.cpuprofile` files, e.g. after
 *
 *   SB_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:chat
 *   node bench/profile-summary.mjs /tmp/prof [TOP=15]
 *
 * A profile is named by the process it came from (api, worker, emulator: the script it ran).
 * Self time is the sum of sample intervals whose top frame is the function; (idle) and (program)
 * are shown but not counted in the busy total. Samples spent loading modules (a frame of
 * node:internal/modules on the stack: mostly boot) are left out, so the figures are the work.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const top = Number(process.argv[3] ?? 15);
if (!dir) {
  console.error('usage: node bench/profile-summary.mjs <dir with .cpuprofile files> [top]');
  process.exit(2);
}

const processOf = (profile) => {
  // Our own files only: a package path may contain `/api/dist/` too (e.g. @opentelemetry/api).
  const urls = profile.nodes.map((n) => n.callFrame.url).filter((u) => !u.includes('/node_modules/'));
  if (urls.some((u) => u.includes('/api/dist/'))) return 'api';
  if (urls.some((u) => u.includes('/worker/dist/'))) return 'worker';
  if (urls.some((u) => u.includes('bedrock-emulator/dist/'))) return 'emulator';
  return 'other';
};

/** Where a function lives, short: our code by path, a package by name. */
const place = ({ url, lineNumber }) => {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const m = /\/(api|worker|libs\/[^/]+)\/(?:dist|src)\/(.*)$/.exec(url);
  return m ? `${m[1]}/${m[2]}:${lineNumber + 1}` : url.split('/').slice(-2).join('/');
};

for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const loading = new Map();
  const isLoading = (id) => {
    if (loading.has(id)) return loading.get(id);
    const n = byId.get(id);
    const v = n.callFrame.url.startsWith('node:internal/modules') || (parent.has(id) ? isLoading(parent.get(id)) : false);
    loading.set(id, v);
    return v;
  };
  const self = new Map();
  const byPackage = new Map();
  const pkgMemo = new Map();
  /** The nearest caller that is ours (a file) or a package: where the work is asked for. */
  const packageOf = (id) => {
    if (pkgMemo.has(id)) return pkgMemo.get(id);
    const { url } = byId.get(id).callFrame;
    const nm = url.lastIndexOf('node_modules/');
    let v;
    if (nm >= 0) {
      const rest = url.slice(nm + 'node_modules/'.length).split('/');
      v = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    } else if (url.includes('/dist/')) v = `ours: ${url.split('/dist/')[1]}`;
    else v = parent.has(id) ? packageOf(parent.get(id)) : 'node (event loop, I/O)';
    pkgMemo.set(id, v);
    return v;
  };
  let busy = 0;
  let boot = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (isLoading(id)) {
      boot += profile.timeDeltas[i] ?? 0;
      return;
    }
    const dt = profile.timeDeltas[i] ?? 0;
    const name = node.callFrame.functionName || '(anonymous)';
    const key = `${name}  ${place(node.callFrame)}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    if (name !== '(idle)' && name !== '(program)') {
      busy += dt;
      const pkg = name === '(garbage collector)' ? '(garbage collector)' : packageOf(id);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + dt);
    }
  });
  const wall = (profile.endTime - profile.startTime) / 1000;
  console.log(`\n${processOf(profile)} (${file}): ${(busy / 1000).toFixed(0)} ms busy of ${wall.toFixed(0)} ms profiled (+${(boot / 1000).toFixed(0)} ms loading modules, left out)`);
  const rows = [...self.entries()].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, us] of rows) console.log(`  ${(us / 1000).toFixed(0).padStart(7)} ms ${((us / busy) * 100).toFixed(1).padStart(5)} %  ${key}`);
  console.log('  by package (nearest caller that is ours or a package):');
  const pkgs = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, Math.ceil(top / 2));
  for (const [key, us] of pkgs) console.log(`  ${(us / 1000).toFixed(0).padStart(7)} ms ${((us / busy) * 100).toFixed(1).padStart(5)} %  ${key}`);
}
