/** The `host:port` address string of the observability HTTP server. */
import { isIPv6 } from 'node:net';
import { RollcallError } from '../errors.js';

/** Loopback by default: metrics and health are for the local Prometheus and systemd, not the LAN. */
export const DEFAULT_LISTEN = '127.0.0.1:9464';

export interface ListenAddress {
  /** An IPv4 address, a host name, or an IPv6 address without brackets. */
  host: string;
  /** 0 asks the system for a free port. */
  port: number;
}

function invalid(listen: string, why: string): RollcallError {
  return new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `listen address '${listen}': ${why}`, { detail: { listen } });
}

/** Reads 'host:port', '[v6]:port' ('[::1]:9464'); throws ROLLCALL_ERR_CONFIG_INVALID otherwise. */
export function parseListenAddress(listen: string): ListenAddress {
  let host: string;
  let portText: string;
  if (listen.startsWith('[')) {
    const close = listen.indexOf(']');
    if (close < 0 || listen[close + 1] !== ':') throw invalid(listen, "expected '[ipv6]:port'");
    host = listen.slice(1, close);
    portText = listen.slice(close + 2);
    if (!isIPv6(host)) throw invalid(listen, `'${host}' is not an IPv6 address`);
  } else {
    const colon = listen.lastIndexOf(':');
    if (colon < 0) throw invalid(listen, "expected 'host:port'");
    host = listen.slice(0, colon);
    portText = listen.slice(colon + 1);
    if (host.includes(':')) throw invalid(listen, "an IPv6 address needs brackets: '[::1]:9464'");
    if (host === '') throw invalid(listen, "the host is missing (use '0.0.0.0:PORT' to listen on every interface)");
    if (/\s/.test(host)) throw invalid(listen, 'the host contains white space');
  }
  if (!/^\d{1,5}$/.test(portText)) throw invalid(listen, `'${portText}' is not a port number`);
  const port = Number(portText);
  if (port > 65535) throw invalid(listen, `port ${port} is above 65535`);
  return { host, port };
}

/** The inverse of parseListenAddress, for log lines and status. */
export function formatListenAddress(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
