// Image build step: fetches the RDS CA bundle and checks its SHA-256 against RDS_CA_BUNDLE_SHA256
// (a build arg; `cdk deploy -c rdsCaBundleSha256=<hex>` passes it). A mismatch fails the build.
// Unpinned, it prints the digest to pin and goes on (docs/deploy.md, "Pin the RDS CA bundle").
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const [url, out] = process.argv.slice(2);
const expected = (process.env.RDS_CA_BUNDLE_SHA256 ?? '').trim().toLowerCase();
const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
const body = Buffer.from(await res.arrayBuffer());
const actual = createHash('sha256').update(body).digest('hex');
if (!body.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${url}: not a PEM bundle`);
if (expected && expected !== actual) {
  console.error(`RDS CA bundle checksum mismatch: expected ${expected}, got ${actual}. Check AWS's announcement, then pin the new value.`);
  process.exit(1);
}
console.log(expected ? `RDS CA bundle verified (sha256 ${actual})` : `RDS CA bundle NOT PINNED: sha256 ${actual} (pin it with -c rdsCaBundleSha256=${actual})`);
writeFileSync(out, body, { mode: 0o644 });
