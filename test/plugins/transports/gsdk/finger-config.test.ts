import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateFormat } from '../../../../proto/gen/gsdk/finger.js';
import { rejectsWithCode, startHarness, type Harness } from './harness.js';

describe('gateway client: Finger.GetConfig', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ deadlines: { defaultMs: 5000, longMs: 5000 } }, [1001]);
    h.sim.addDevice({ id: 1035, type: 35 }); // BIOSTATION_3: no fingerprint sensor
    h.sim.addDevice({ id: 1008, type: 8, templateFormat: 'ANSI' }); // BIOSTATION_2
  });
  after(() => h.close());

  test('reads the template format of a device with a sensor', async () => {
    assert.equal((await h.transport.gateway.getFingerConfig(1001)).templateFormat, TemplateFormat.SUPREMA);
    assert.equal((await h.transport.gateway.getFingerConfig(1008)).templateFormat, TemplateFormat.ANSI);
  });

  test('a device without a sensor fails the call', async () => {
    await rejectsWithCode(h.transport.gateway.getFingerConfig(1035), 'UNIMPLEMENTED', { method: 'GetConfig', deviceId: 1035 });
  });
});
