/**
 * Only the device gateway is supported: an address that answers as a G-SDK master gateway
 * (no gsdk.connect.Connect, a ConnectMaster that wants a login) or as some other gRPC server
 * is refused with ROLLCALL_ERR_GATEWAY_UNSUPPORTED naming the address, and the sync engine
 * does not start over it. No master gateway simulator exists, so a bare grpc-js server on
 * loopback stands in for one: it serves only what the test registers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { isRollcallError } from '../../../../daemon/errors.js';
import { EXIT, startFailureExit } from '../../../../daemon/exit-codes.js';
import { Metrics } from '../../../../daemon/obs/metrics.js';
import { pluginContext, startGsdkTransport } from '../../../helpers/sync-harness.js';
import { bareGrpcServer } from '../../../helpers/master-gateway.js';

for (const master of [true, false]) {
  test(`${master ? 'a master gateway' : 'a gRPC server that is no gateway'} is refused, naming the address`, async () => {
    const server = await bareGrpcServer({ master });
    const abort = new AbortController();
    const transport = await startGsdkTransport(pluginContext(pino({ level: 'silent' }), new Metrics(), abort.signal), server.address);
    try {
      const error = await transport.listDevices().then(
        () => assert.fail('listDevices should reject'),
        (e: unknown) => e,
      );
      assert.ok(isRollcallError(error, 'ROLLCALL_ERR_GATEWAY_UNSUPPORTED'), String(error));
      assert.match(error.message, new RegExp(server.address.replace(/\./g, '\\.')));
      assert.match(error.message, /only the device gateway is supported/);
      assert.match(error.message, master ? /master gateway/ : /not a G-SDK device gateway/);
      assert.equal(error.detail?.['master'], master);
      assert.equal(startFailureExit(error), EXIT.CONFIG);
    } finally {
      abort.abort();
      await transport.stop();
      await server.stop();
    }
  });
}
