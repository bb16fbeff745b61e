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

export function channelOptions(config: Pick<GatewayConfig, 'maxMessageBytes' | 'tls'>): grpc.ChannelOptions {
  const options: grpc.ChannelOptions = {
    'grpc.max_receive_message_length': config.maxMessageBytes,
    'grpc.max_send_message_length': config.maxMessageBytes,
  };
  if (config.tls?.serverName) {
    options['grpc.ssl_target_name_override'] = config.tls.serverName;
    options['grpc.default_authority'] = config.tls.serverName;
  }
  return options;
}
