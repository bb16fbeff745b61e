/**
 * A gateway simulator on a loopback port and a started gsdk transport talking to it over
 * real gRPC, for the transport tests.
 */
import assert from 'node:assert/strict';
import { RollcallError } from '../../../../daemon/errors.js';
import { configSchema, type GatewayConfig } from '../../../../plugins/transports/gsdk/schema.js';
import { GsdkTransport } from '../../../../plugins/transports/gsdk/transport.js';
import { Type as DeviceType } from '../../../../proto/gen/gsdk/device.js';
import { startSimulator, type RunningSimulator } from '../../../../simulator/index.js';
import { testContext, type TestContext } from './fixtures.js';

export interface Harness {
  sim: RunningSimulator;
  transport: GsdkTransport;
  test: TestContext;
  close(): Promise<void>;
}

export async function startHarness(config: Partial<Record<keyof GatewayConfig, unknown>> = {}, deviceIds = [1001, 1002, 1003]): Promise<Harness> {
  // fullUser() carries fingerprints and an IR face: no real model holds both, so the devices
  // are FACESTATION_F2_FP (fingerprint, card, PIN) with an IR face camera given explicitly.
  const sim = await startSimulator({ devices: deviceIds.map((id) => ({ id, type: DeviceType.FACESTATION_F2_FP, face: 'ir' as const })), port: 0 });
  const test = await testContext();
  const transport = new GsdkTransport(test.ctx, configSchema.parse({ address: sim.address, insecure: config.tls === undefined, ...config }));
  await transport.start(test.abort.signal);
  return {
    sim,
    transport,
    test,
    close: async () => {
      await transport.stop();
      await sim.stop();
      await test.dispose();
    },
  };
}

/** Asserts that `promise` rejects with a gateway call error with this gRPC code name (and detail). */
export async function rejectsWithCode(promise: Promise<unknown>, codeName: string, detail: Record<string, unknown> = {}): Promise<RollcallError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof RollcallError, `expected a RollcallError, got ${String(caught)}`);
  assert.equal(caught.code, 'ROLLCALL_ERR_GATEWAY_CALL', caught.message);
  assert.equal(caught.detail?.['codeName'], codeName, caught.message);
  for (const [key, value] of Object.entries(detail)) assert.deepEqual(caught.detail?.[key], value, `detail.${key}`);
  return caught;
}
