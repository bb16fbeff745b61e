/**
 * The keepalive enforcement a real gateway applies to its clients, so that a client that
 * pings too often fails against the simulator as it would against the gateway.
 *
 * The G-SDK gateway is a Go gRPC server; grpc-go's default keepalive EnforcementPolicy is
 * MinTime 5 minutes and PermitWithoutStream false (https://pkg.go.dev/google.golang.org/grpc/keepalive).
 * As grpc-go's server does (its transport's ping handling, public source): a ping that comes
 * less than MinTime after the previous one while a stream is open, or less than 2 hours after
 * it while none is, is a strike, unless the server has sent headers or data since the previous
 * ping (that resets the strikes); the third strike gets GOAWAY ENHANCE_YOUR_CALM with the debug
 * data "too_many_pings" and the connection is closed. A grpc-js client that gets that GOAWAY
 * doubles its keepalive time (gRFC A8).
 *
 * grpc-js's server has no such policy and no public hook to the HTTP/2 sessions, so this
 * reads its `http2Servers` map after bind. If a grpc-js release renames it, `enforce` returns
 * false and test/simulator/keepalive-policy.test.ts fails, which is where that shows.
 */
import { constants, type Http2Server, type Http2Session, type ServerHttp2Session } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

export interface KeepalivePolicy {
  /** The least time between two pings while a stream is open (grpc-go: 5 minutes). */
  minTimeMs: number;
  /** Pings with no stream open are allowed as often as minTimeMs (grpc-go: false). */
  permitWithoutStream: boolean;
}

/** grpc-go's defaults, and so a real gateway's unless it was built with its own. */
export const GATEWAY_KEEPALIVE_POLICY: KeepalivePolicy = { minTimeMs: 5 * 60_000, permitWithoutStream: false };

/** grpc-go's defaultPingTimeout: how seldom a client may ping when it may not ping without a stream. */
const IDLE_PING_MS = 2 * 60 * 60_000;
/** grpc-go's maxPingStrikes: the strike after this many closes the connection. */
const MAX_PING_STRIKES = 2;
/**
 * More bytes than this written since the previous ping mean the server sent headers or data
 * (a ping ack is 17 bytes, a SETTINGS ack 9, a WINDOW_UPDATE 13; TLS adds ~30 a record).
 */
const CONTROL_BYTES = 96;
const TOO_MANY_PINGS = Buffer.from('too_many_pings', 'ascii');

function watch(session: ServerHttp2Session, policy: KeepalivePolicy, now: () => number): void {
  let openStreams = 0;
  let strikes = 0;
  let lastPingAt: number | undefined;
  let writtenAtLastPing = 0;
  let lastStreamId = 0;
  session.on('stream', (stream) => {
    openStreams += 1;
    lastStreamId = Math.max(lastStreamId, stream.id ?? 0);
    stream.once('close', () => {
      openStreams -= 1;
    });
  });
  session.on('ping', () => {
    const at = now();
    const written = session.socket?.bytesWritten ?? 0;
    const sentSince = written - writtenAtLastPing > CONTROL_BYTES;
    const previous = lastPingAt;
    lastPingAt = at;
    writtenAtLastPing = written;
    if (previous === undefined) return;
    if (sentSince) {
      strikes = 0;
      return;
    }
    const least = openStreams > 0 || policy.permitWithoutStream ? policy.minTimeMs : IDLE_PING_MS;
    if (at - previous < least) strikes += 1;
    if (strikes > MAX_PING_STRIKES && !session.destroyed) {
      // The last stream it took, as grpc-go says: the client must not retry those streams elsewhere.
      session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, lastStreamId, TOO_MANY_PINGS);
      // grpc-go closes the connection after the GOAWAY; streams still open end UNAVAILABLE.
      setImmediate(() => session.destroy());
    }
  });
}

/**
 * Applies `policy` to every connection `server` accepts from now on (call it after bind).
 * Returns false when the grpc-js internals it needs are not there.
 */
export function enforceKeepalivePolicy(server: Server, policy: KeepalivePolicy, now: () => number = () => performance.now()): boolean {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) return false;
  for (const http2Server of servers.keys() as IterableIterator<Http2Server>) {
    if (typeof http2Server?.on !== 'function') return false;
    http2Server.on('session', (session: Http2Session) => watch(session as ServerHttp2Session, policy, now));
  }
  return true;
}
