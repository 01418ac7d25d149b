import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Why a callback target is refused, e.g. "resolves to a loopback address (127.0.0.1)". */
export class CallbackTargetError extends Error {
  constructor(
    message: string,
    readonly range?: string,
  ) {
    super(message);
  }
}

/**
 * The range of an address as ipaddr.js names it. IPv6 forms that carry an IPv4 address count as
 * that IPv4 address: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`) and
 * IPv4-compatible (`::a.b.c.d`, deprecated; ipaddr.js calls it unicast), so `[::127.0.0.1]` is
 * loopback. A public address in the deprecated compatible form is refused all the same.
 */
export function addressRange(address: string): string {
  const parsed = parseAddress(address);
  if (!parsed) return 'invalid';
  if (parsed.kind() === 'ipv4') return parsed.range();
  const parts = (parsed as ipaddr.IPv6).parts;
  const embedsIpv4 =
    parts.slice(0, 5).every((p) => p === 0) && (parts[5] === 0 || parts[5] === 0xffff) ||
    (parts.slice(0, 4).every((p) => p === 0) && parts[4] === 0xffff && parts[5] === 0);
  if (!embedsIpv4) return parsed.range();
  const ipv4 = ipaddr.fromByteArray([parts[6]! >> 8, parts[6]! & 0xff, parts[7]! >> 8, parts[7]! & 0xff]);
  const range = ipv4.range();
  const compatible = parts[5] === 0 && parts[4] === 0;
  return compatible && range === 'unicast' ? 'ipv4Compatible' : range;
}

/** ipaddr.js refuses a dotted IPv4 tail after other groups (`::127.0.0.1`), which Node accepts. */
function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = address.replace(/^\[|\]$/g, '');
  try {
    return ipaddr.parse(bare);
  } catch {
    const tail = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
    if (!tail || !ipaddr.IPv4.isValidFourPartDecimal(tail[2]!)) return undefined;
    const b = ipaddr.IPv4.parse(tail[2]!).toByteArray();
    try {
      return ipaddr.parse(`${tail[1]}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`);
    } catch {
      return undefined;
    }
  }
}

/** Only plain public unicast: no loopback, private, link-local, unique-local, CGNAT, multicast, reserved… */
export function isPublicAddress(address: string): boolean {
  return addressRange(address) === 'unicast';
}

const rangeNames: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  linkLocal: 'a link-local address',
  uniqueLocal: 'a unique-local address',
  unspecified: 'an unspecified address',
  carrierGradeNat: 'a carrier-grade NAT address',
};

function refuse(host: string, address: string): CallbackTargetError {
  const range = addressRange(address);
  const what = rangeNames[range] ?? `a non-public address (${range})`;
  const where = host === address ? address : `${host} → ${address}`;
  return new CallbackTargetError(`callbackUrl points to ${what} (${where}); only public targets are allowed`, range);
}

/**
 * Resolves the callback's host and refuses private, loopback, link-local and unique-local targets
 * unless allowPrivate. Checked at submit (fail fast) and again at delivery through safeLookup,
 * so a DNS answer that changes meanwhile cannot redirect the POST inward.
 */
export async function checkCallbackUrl(url: string, allowPrivate: boolean): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CallbackTargetError('callbackUrl is not a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CallbackTargetError('callbackUrl must be http or https');
  if (parsed.username || parsed.password) throw new CallbackTargetError('callbackUrl must not carry credentials');
  if (allowPrivate) return;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : await resolveAll(host);
  for (const address of addresses) if (!isPublicAddress(address)) throw refuse(host, address);
}

async function resolveAll(host: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (err, addresses: LookupAddress[]) => {
      if (err) reject(new CallbackTargetError(`callbackUrl host ${host} does not resolve (${err.code ?? err.message})`));
      else resolve(addresses.map((a) => a.address));
    });
  });
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for http(s).request that refuses non-public addresses at connect time. */
export function safeLookup(allowPrivate: boolean) {
  return (hostname: string, options: object, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, []);
      const bad = allowPrivate ? undefined : addresses.find((a) => !isPublicAddress(a.address));
      if (bad) return callback(Object.assign(refuse(hostname, bad.address), { code: 'ECALLBACKREFUSED' }), []);
      if ((options as { all?: boolean }).all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`: the timestamp is signed so replays can be refused. */
export function signWebhook(secret: string, timestamp: string | number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * `X-Switchboard-Signature` with every valid secret: `sha256=<current>` alone, or during the grace
 * period after a rotation `sha256=<current>,sha256=<previous>`. Receivers accept the delivery when any
 * comma-separated signature matches theirs.
 */
export function webhookSignatureHeader(secrets: readonly string[], timestamp: string | number, body: string): string {
  return secrets.map((secret) => signWebhook(secret, timestamp, body)).join(',');
}

/** Redis key holding an owner's previous callback secret for the grace period after a rotation. */
export const previousWebhookSecretKey = (queuePrefix: string, owner: string) => `${queuePrefix}:webhook-secret-previous:${owner}`;
