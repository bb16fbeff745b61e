/**
 * How the channel to the gateway is secured and sized. A real gateway is TLS only
 * (server authentication, its own root CA); plaintext is for the embedded simulator and
 * trusted links.
 */
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { RollcallError } from '../../../daemon/errors.js';
import type { GatewayConfig, TlsConfig } from './schema.js';

async function readPem(path: string, key: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `gateway.tls.${key}: cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
      detail: { key: `gateway.tls.${key}`, path },
    });
  }
}

export async function channelCredentials(tls: TlsConfig | undefined): Promise<grpc.ChannelCredentials> {
  if (!tls) return grpc.credentials.createInsecure();
  const [ca, cert, key] = await Promise.all([
    readPem(tls.caFile, 'caFile'),
    tls.certFile === undefined ? undefined : readPem(tls.certFile, 'certFile'),
    tls.keyFile === undefined ? undefined : readPem(tls.keyFile, 'keyFile'),
  ]);
  return grpc.credentials.createSsl(ca, key ?? null, cert ?? null);
}

/**
 * Keepalive, so that a link that died without a word (a NAT or firewall that dropped the
 * connection, a cable) does not leave the event and status streams waiting forever.
 *
 * The gateway is a Go gRPC server. Unless it was built with its own policy, grpc-go's default
 * keepalive EnforcementPolicy applies: MinTime 5 minutes (a client must not ping more often),
 * PermitWithoutStream false (no pings while no call is open); a client that breaks it gets
 * GOAWAY ENHANCE_YOUR_CALM "too_many_pings" after a few strikes and loses the connection
 * (google.golang.org/grpc/keepalive, EnforcementPolicy and ClientParameters docs,
 * https://pkg.go.dev/google.golang.org/grpc/keepalive; gRFC A8 client-side keepalive).
 * So: a ping after 5½ minutes without activity (a margin over MinTime, for timers that fire
 * a little early on the other side), 20 s for its answer (grpc-go's own default Timeout),
 * and only while a call or stream is open (rollcall's event and status streams always are).
 */
export const KEEPALIVE_TIME_MS = 330_000;
export const KEEPALIVE_TIMEOUT_MS = 20_000;
/** grpc-go's default EnforcementPolicy.MinTime, which the simulator enforces too. */
export const GATEWAY_KEEPALIVE_MIN_TIME_MS = 300_000;

export function channelOptions(config: Pick<GatewayConfig, 'maxMessageBytes' | 'maxReceiveBytes' | 'tls'>): grpc.ChannelOptions {
  const options: grpc.ChannelOptions = {
    'grpc.max_receive_message_length': config.maxReceiveBytes,
    'grpc.max_send_message_length': config.maxMessageBytes,
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    'grpc.keepalive_permit_without_calls': 0,
  };
  if (config.tls?.serverName) {
    options['grpc.ssl_target_name_override'] = config.tls.serverName;
    options['grpc.default_authority'] = config.tls.serverName;
  }
  return options;
}
