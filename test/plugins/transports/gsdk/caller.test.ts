/**
 * The gsdk transport names its instance on every call (x-rollcall-instance, which the
 * simulator records per device), and sends no request that CallOptions.admit refuses.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../../../../plugins/transports/gsdk/schema.js';
import { GsdkTransport } from '../../../../plugins/transports/gsdk/transport.js';
import { startSimulator } from '../../../../simulator/index.js';
import { fullUser, testContext } from './fixtures.js';

test('every device call carries the instance; a refused admit sends nothing', async () => {
  const sim = await startSimulator({ devices: [{ id: 1001 }, { id: 1002 }], port: 0 });
  const context = await testContext();
  const transport = new GsdkTransport({ ...context.ctx, instanceId: 'site-a-1' }, configSchema.parse({ address: sim.address, insecure: true }));
  try {
    await transport.start(context.abort.signal);
    await transport.enrollUsers([1001, 1002], [{ ...fullUser('7'), fingers: [], faces: [] }]);
    await transport.listUsers(1001);
    assert.deepEqual(sim.callers.of(1001).runs.map((r) => [r.caller, r.calls]), [['site-a-1', 2]]);
    assert.deepEqual(sim.callers.of(1002).runs.map((r) => [r.caller, r.calls]), [['site-a-1', 1]]);

    const refusal = new Error('lease lapsed');
    let asked = 0;
    await assert.rejects(
      transport.listUsers(1002, {
        admit: () => {
          asked += 1;
          throw refusal;
        },
      }),
      (error) => error === refusal,
    );
    assert.equal(asked, 1);
    assert.equal(sim.callers.of(1002).runs[0]!.calls, 1, 'the refused call never reached the device');
  } finally {
    await transport.stop();
    await sim.stop();
    await context.dispose();
  }
});
