/**
 * Whether the gateway at `gateway.address` is a device gateway, the only kind rollcall
 * supports. A G-SDK master gateway (spec/gsdk-wire.md §5: Login, a JWT on every call, and
 * gsdk.connect_master.ConnectMaster instead of gsdk.connect.Connect) does not serve
 * gsdk.connect.Connect, so its first Connect call answers UNIMPLEMENTED; asking for
 * ConnectMaster then tells a master gateway (any answer but UNIMPLEMENTED: it exists, even if
 * it wants a login) from some other gRPC server.
 */
import { RollcallError } from '../../../daemon/errors.js';
import { callCode, type CallOptions, type GatewayChannel, type MethodDefinition } from './channel.js';
import { GrpcCode } from './status-code.js';

/** ConnectMaster.GetDeviceList with an empty request: read-only, and no proto is needed to ask. */
const masterDeviceList: MethodDefinition<Buffer, Buffer> = {
  path: '/gsdk.connect_master.ConnectMaster/GetDeviceList',
  requestSerialize: (value) => value,
  responseDeserialize: (value) => value,
};

/**
 * The error to throw for a failed gsdk.connect.Connect call: ROLLCALL_ERR_GATEWAY_UNSUPPORTED
 * when it failed because the address is not a device gateway, else the error itself.
 */
export async function refuseUnlessDeviceGateway(error: unknown, channel: GatewayChannel, options?: CallOptions): Promise<unknown> {
  if (callCode(error) !== GrpcCode.UNIMPLEMENTED) return error;
  let master = false;
  try {
    await channel.unary(masterDeviceList, Buffer.alloc(0), options);
    master = true;
  } catch (probe) {
    master = callCode(probe) !== undefined && callCode(probe) !== GrpcCode.UNIMPLEMENTED && callCode(probe) !== GrpcCode.UNAVAILABLE;
  }
  const what = master
    ? 'a G-SDK master gateway (it serves gsdk.connect_master.ConnectMaster, not gsdk.connect.Connect)'
    : 'not a G-SDK device gateway (it does not serve gsdk.connect.Connect: UNIMPLEMENTED)';
  return new RollcallError(
    'ROLLCALL_ERR_GATEWAY_UNSUPPORTED',
    `the gateway at ${channel.address} is ${what}; only the device gateway is supported: set gateway.address to a device gateway's host:port (default port 4000)`,
    { cause: error, detail: { address: channel.address, master } },
  );
}
