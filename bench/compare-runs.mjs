#!/usr/bin/env node
/**
 * Issue 19's before/after table from bench:chat's BENCH_OUT files: each figure's median over the
 * runs of each side, the change, and the per-pair change of stack CPU (run i of one side against
 * run i of the other: alternate the runs so that each pair shares the host's hour).
 *
 *   node bench/compare-runs.mjs before.jsonl after.jsonl
 *
 * Prints Markdown. The ratios correct for a host whose speed drifts: stack CPU ÷ the speed
 * reference (the direct round's emulator + load generator CPU) and ÷ the bare pipeline of the
 * same run (absent when the runs had BENCH_BARE=0).
 */
import { readFileSync } from 'node:fs';

const [beforeFile, afterFile] = process.argv.slice(2);
if (!beforeFile || !afterFile) {
  console.error('usage: node bench/compare-runs.mjs <before BENCH_OUT file> <after BENCH_OUT file>');
  process.exit(2);
}
const runsOf = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
const before = runsOf(beforeFile);
const after = runsOf(afterFile);

const median = (values) => {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};
const fmt = (x, digits = 2) => (x === undefined ? '–' : x.toFixed(digits));
const change = (b, a) => (b === undefined || a === undefined || b === 0 ? '' : `${a >= b ? '+' : '−'}${Math.abs(((a - b) / b) * 100).toFixed(1)} %`);

/** [label, figure of one run (undefined when the run lacks it), digits] */
const figures = [
  ['stack CPU per chat, ms (API + workers + Redis + Postgres)', (r) => r.warm.stackCpuMsPerChat],
  ['  API', (r) => r.warm.cpuMsPerChat.api],
  ['  worker', (r) => r.warm.cpuMsPerChat.worker],
  ['  Redis', (r) => r.warm.cpuMsPerChat.redis],
  ['  Postgres', (r) => r.warm.cpuMsPerChat.postgres],
  ['stack CPU ÷ speed reference', (r) => r.warm.stackCpuMsPerChat / r.warm.referenceCpuMsPerChat],
  ['product ÷ bare pipeline, same run', (r) => (r.bare ? r.warm.stackCpuMsPerChat / r.bare.warm.stackCpuMsPerChat : undefined)],
  ['warm added TTFT p50, ms', (r) => r.warm.ttftP50],
  ['warm added TTFT p99, ms', (r) => r.warm.ttftP99],
  ['warm added per-token p99, ms', (r) => r.warm.tokenP99],
  ['cold added TTFT p50, ms', (r) => r.cold.ttftP50],
  ['bare: stack CPU per chat, ms', (r) => r.bare?.warm.stackCpuMsPerChat],
  ['bare: warm added per-token p99, ms', (r) => r.bare?.warm.tokenP99],
  ['other processes busy, %', (r) => r.warm.otherBusy * 100, 1],
  ['chats lost', (r) => r.cold.lost + r.warm.lost, 0],
];

console.log(`| median (${before.length} runs / ${after.length} runs) | ${beforeFile} | ${afterFile} | change |`);
console.log('|---|---|---|---|');
for (const [label, get, digits] of figures) {
  const b = median(before.map(get));
  const a = median(after.map(get));
  if (b === undefined && a === undefined) continue;
  console.log(`| ${label} | ${fmt(b, digits)} | ${fmt(a, digits)} | ${label.startsWith('other') || label === 'chats lost' ? '' : change(b, a)} |`);
}
const pairs = Math.min(before.length, after.length);
const perPair = Array.from({ length: pairs }, (_, i) => change(before[i].warm.stackCpuMsPerChat, after[i].warm.stackCpuMsPerChat));
console.log(`\nstack CPU per chat, pair by pair: ${perPair.join(', ')}`);
const warmMedian = median(after.map((r) => r.warm.ttftP50));
const target = (ok) => (ok ? 'met' : 'NOT met');
console.log('\ntargets (after, medians):');
console.log(`- stack CPU at least 25 % lower: ${target(median(after.map((r) => r.warm.stackCpuMsPerChat)) <= 0.75 * median(before.map((r) => r.warm.stackCpuMsPerChat)))}`);
console.log(`- warm added TTFT p50 <= 10 ms: ${target(warmMedian <= 10)}`);
console.log(`- warm added TTFT p99 <= 40 ms: ${target(median(after.map((r) => r.warm.ttftP99)) <= 40)}`);
console.log(`- warm added per-token p99 <= 10 ms: ${target(median(after.map((r) => r.warm.tokenP99)) <= 10)}`);
console.log(`- cold added TTFT p50 within 2 x warm: ${target(median(after.map((r) => r.cold.ttftP50)) <= 2 * warmMedian)}`);
