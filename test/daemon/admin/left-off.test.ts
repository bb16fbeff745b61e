/**
 * What devices cannot hold, as operators read it: `users show`, `plan` and `verify` say per
 * device what its copy of a user leaves off and why (issue 13 item 2), over real parts: the
 * simulator with a device without a fingerprint sensor beside one that holds everything.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdminHarness } from './admin-harness.js';
import { makeUser } from '../../helpers/sync-harness.js';
import { simulatedTemplate, TemplateFormat } from '../../../simulator/index.js';

const template = (seed: number) => simulatedTemplate(TemplateFormat.SUPREMA, seed).toString('base64');

interface LeftOffJson {
  credential: string;
  reason: string;
  count: number;
  users: number;
  text: string;
}

describe('left-off credentials in the client commands', () => {
  let h: AdminHarness;

  before(async () => {
    h = await AdminHarness.start({ followEvents: false, devices: [{ id: 6001, maxFingerprintsPerUser: 0 }, { id: 6002 }] });
    await h.sync.put(makeUser('31', { fingers: [{ index: 0, flag: 0, templates: [template(1), template(2)] }] }), makeUser('32'));
    await h.sync.until('both devices at the head', () => h.sync.engine.status().every((d) => d.cursor === h.sync.store.currentSeq() && d.lastCheck !== undefined));
  });

  after(async () => {
    await h?.stop();
  });

  test('users show: per device, what its copy leaves off and why; devices that hold it whole are not listed', async () => {
    const shown = await h.json<{ id: string; leftOffByDevice: { deviceId: number; leftOff: LeftOffJson[] }[] }>(['users', 'show', '31']);
    assert.equal(shown.code, 0);
    assert.deepEqual(shown.body.leftOffByDevice, [
      { deviceId: 6001, leftOff: [{ credential: 'fingerprint', reason: 'no-fingerprint-sensor', count: 1, users: 1, text: '1 fingerprint: the device has no fingerprint sensor (no-fingerprint-sensor)' }] },
    ]);
    const human = await h.local(['users', 'show', '31']);
    assert.match(human.stdout, /device 6001: +left off 1 fingerprint: the device has no fingerprint sensor \(no-fingerprint-sensor\)/);
    const plain = await h.json<{ leftOffByDevice: unknown[] }>(['users', 'show', '32']);
    assert.deepEqual(plain.body.leftOffByDevice, []);
  });

  test('verify --deep and plan: in sync, with what each device cannot hold', async () => {
    const verified = await h.json<{ inSync: boolean; checks: { deviceId: number; differences: number; leftOff: LeftOffJson[] }[] }>(['verify', '--deep']);
    assert.equal(verified.code, 0, JSON.stringify(verified.body));
    assert.equal(verified.body.inSync, true);
    const byDevice = new Map(verified.body.checks.map((c) => [c.deviceId, c]));
    assert.deepEqual(byDevice.get(6001)!.leftOff.map((l) => [l.credential, l.reason, l.count, l.users]), [['fingerprint', 'no-fingerprint-sensor', 1, 1]]);
    assert.deepEqual(byDevice.get(6002)!.leftOff, []);
    const human = await h.local(['verify', '--deep']);
    assert.match(human.stdout, /device 6001:\n  left off: 1 fingerprint: the device has no fingerprint sensor \(no-fingerprint-sensor\)/);

    const plan = await h.json<{ devices: { deviceId: number; leftOff: LeftOffJson[] }[] }>(['plan']);
    assert.deepEqual(plan.body.devices.find((d) => d.deviceId === 6001)!.leftOff.map((l) => l.reason), ['no-fingerprint-sensor']);
    const planText = await h.local(['plan']);
    assert.match(planText.stdout, /device 6001: nothing to change\n  left off: 1 fingerprint/);
  });
});
