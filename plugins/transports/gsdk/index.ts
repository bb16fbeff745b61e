/**
 * The gsdk transport plugin: rollcall's client of a Suprema G-SDK device gateway, or of the
 * embedded gateway simulator. See README.md.
 */
import type { PluginDefinition } from '../../../daemon/plugins/api.js';
import { configSchema, type GatewayConfig } from './schema.js';
import { GsdkTransport } from './transport.js';

export type { GsdkTransport } from './transport.js';
export type { GatewayClient } from './gateway-client.js';
export type { GatewayConfig } from './schema.js';
export * from './types.js';
export { toUserInfo, fromUserInfo, fromPartialUserInfo, fieldsOfInfoMask, encodedSize } from './user-info.js';
export { deviceProjectionHash } from './projection-hash.js';
export { nextDelay, retry, isTransient, SYNC_BACKOFF, type BackoffPolicy, type RetryPolicy } from './backoff.js';
export { callCode } from './channel.js';

const gsdk: PluginDefinition<GatewayConfig, GsdkTransport> = {
  kind: 'transport',
  name: 'gsdk',
  description: 'G-SDK device gateway client (gRPC), or the embedded gateway simulator',
  configKey: 'gateway',
  configSchema,
  create: (ctx, config) => new GsdkTransport(ctx, config),
};

export default gsdk;
