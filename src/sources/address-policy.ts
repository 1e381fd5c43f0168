import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ImgfleetError } from '../errors.js';

/**
 * Addresses an origin may not have unless private origins are allowed: loopback, private,
 * carrier-grade NAT, link-local, unique-local, unspecified, multicast and reserved ranges; and
 * every IPv6 form that carries an IPv4 address (mapped, compatible, NAT64, 6to4) or is not
 * routed (site-local, discard-only). The IPv6 ranges are a list of their own: Node's BlockList
 * matches IPv4 addresses against IPv6 rules as if mapped, so `::ffff:0:0/96` there would match
 * every IPv4 address.
 */
const REFUSED_V4 = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) REFUSED_V4.addSubnet(net, bits, 'ipv4');
const REFUSED_V6 = new BlockList();
for (const [net, bits] of [
  ['::', 96], ['::1', 128], ['::ffff:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2002::', 16],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) REFUSED_V6.addSubnet(net, bits, 'ipv6');

/**
 * Which private addresses an origin may have anyway: none (false), all (true), or those in
 * a list of addresses and subnets (`10.1.2.3`, `10.0.0.0/8`, `fd00::/8`).
 */
export type PrivateAllowance = boolean | readonly string[];

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return REFUSED_V4.check(address, 'ipv4');
  return REFUSED_V6.check(address, 'ipv6') || REFUSED_V4.check(address, 'ipv6');
}

/**
 * Refuses an address the policy does not allow. The message says only that: which address a
 * name resolved to, and what the server may reach, stay in the log (the error's cause).
 */
export function checkAddress(address: string, host: string, allowPrivate: PrivateAllowance): void {
  if (allowPrivate !== true && isPrivateAddress(address) && !(allowPrivate && allowanceList(allowPrivate).check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6'))) {
    throw new ImgfleetError('FORBIDDEN', 'the image source is on an address this server may not reach', {
      cause: new Error(`origin ${host} resolves to ${address}, a loopback, private or link-local address: refused`),
    });
  }
}

/**
 * A DNS lookup for http.request that refuses private addresses: the connection goes to the
 * address that was checked, so a name cannot resolve to a public address for the check and
 * a private one for the connection.
 */
export function guardedLookup(allowPrivate: PrivateAllowance): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      try {
        for (const { address } of addresses) checkAddress(address, hostname, allowPrivate);
      } catch (refused) {
        return callback(refused as Error, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

const allowances = new WeakMap<readonly string[], BlockList>();

/** Throws BAD_USAGE for an entry that is neither an address nor a subnet. */
export function checkAllowance(allowPrivate: PrivateAllowance): void {
  if (typeof allowPrivate !== 'boolean') allowanceList(allowPrivate);
}

function allowanceList(entries: readonly string[]): BlockList {
  let list = allowances.get(entries);
  if (!list) {
    list = new BlockList();
    for (const entry of entries) {
      const [address, bits] = entry.split('/');
      const family = isIP(address);
      if (family === 0) throw new ImgfleetError('BAD_USAGE', `allowed private origin "${entry}": expected an address or a subnet like 10.0.0.0/8`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(bits), type);
    }
    allowances.set(entries, list);
  }
  return list;
}
