import type { AcceptFilter } from '../proto/gen/gsdk/connect.js';

/**
 * The gateway's accept filter (SetAcceptFilter): which device-to-server devices it lets in,
 * by device ID, by IP address, or by IP address under a subnet mask.
 */
export function allows(filter: AcceptFilter, device: { id: number; ipAddr: string }): boolean {
  if (filter.allowAll) return true;
  if (filter.deviceIDs.includes(device.id)) return true;
  return filter.IPAddrs.some((address, i) => ipMatches(device.ipAddr, address, filter.subnetMasks[i] ?? '255.255.255.255'));
}

function ipMatches(ip: string, network: string, mask: string): boolean {
  const a = ipv4(ip);
  const b = ipv4(network);
  const m = ipv4(mask);
  if (a === undefined || b === undefined || m === undefined) return ip === network;
  return ((a & m) >>> 0) === ((b & m) >>> 0);
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    const n = Number(part);
    if (!/^\d{1,3}$/.test(part) || n > 255) return undefined;
    value = (value << 8) | n;
  }
  return value >>> 0;
}
