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

/** The range of an address as ipaddr.js names it; IPv4-mapped IPv6 counts as its IPv4. */
export function addressRange(address: string): string {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range();
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
