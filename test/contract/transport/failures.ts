/**
 * Device failures cross the contract as reasons (STYLE §16, ARCHITECTURE §10): a device
 * that refuses content, a user that is not there, a full device, a device off the network.
 * One device's failure never fails the others.
 */
import assert from 'node:assert/strict';
import { DEFAULT_DEVICE_LIMITS } from '../../../daemon/model/limits.js';
import { CardType, type User } from '../../../daemon/model/user.js';
import { assertOutcome, plainUser, twoDevices, type Harness } from './harness.js';

/** A user no G-SDK device takes: one card more than any device holds (spec/gsdk-wire.md §5). */
function userWithTooManyCards(id: string): User {
  const cards = Array.from({ length: DEFAULT_DEVICE_LIMITS.maxCards + 1 }, (_, i) => ({
    type: CardType.CSN,
    data: Buffer.from([0x10, i + 1]).toString('base64'),
  }));
  return { ...plainUser(id), cards };
}

export function failureTests({ it }: Harness): void {
  it('refused: a user no device takes fails every device with `refused`, and no device holds it', async ({ transport, devices }) => {
    const outcome = await transport.enrollUsers(devices.deviceIds, [userWithTooManyCards('81')]);
    assertOutcome(outcome, [], devices.deviceIds.map((id) => [id, 'refused']));
    for (const id of devices.deviceIds) assert.deepEqual(await devices.userIds(id), [], `device ${id}`);
  });

  it('refused: a batch with one refused user fails as `refused`, never as the device\'s trouble', async ({ transport, devices }) => {
    const outcome = await transport.enrollUsers(devices.deviceIds, [plainUser('82'), userWithTooManyCards('83'), plainUser('84')]);
    assertOutcome(outcome, [], devices.deviceIds.map((id) => [id, 'refused']));
    for (const id of devices.deviceIds) assert.ok(!(await devices.userIds(id)).includes('83'), `device ${id} does not hold the refused user`);
    // Sent apart, the users that were not at fault go through: this is how the engine finds the refused one.
    assertOutcome(await transport.enrollUsers(devices.deviceIds, [plainUser('82'), plainUser('84')]), devices.deviceIds);
  });

  it('refused: fingerprints in a format one device does not take fail that device alone', async (subject) => {
    const { transport, devices } = subject;
    const [other, takes] = twoDevices(subject);
    await devices.changeTemplateFormat(other);
    const rest = devices.deviceIds.filter((id) => id !== other);
    const outcome = await transport.enrollUsers(devices.deviceIds, [devices.fullUser('85')]);
    assertOutcome(outcome, rest, [[other, 'refused']]);
    assert.deepEqual(await devices.userIds(other), []);
    assert.deepEqual(await devices.userIds(takes), ['85']);
    // The same user without fingerprints is one the device takes.
    assertOutcome(await transport.enrollUsers([other], [{ ...devices.fullUser('85'), fingers: [] }]), [other]);
  });

  it('absent: deleting users a device does not hold is done (ok, or `absent`), never another failure', async (subject) => {
    const { transport, devices } = subject;
    const [holds] = twoDevices(subject);
    assertOutcome(await transport.enrollUsers([holds], [plainUser('91')]), [holds]);
    const outcome = await transport.deleteUsers(devices.deviceIds, ['91', '99']);
    for (const id of devices.deviceIds) {
      const failure = outcome.failed.get(id);
      assert.ok(outcome.ok.includes(id) || failure?.reason === 'absent', `device ${id}: ${failure?.reason ?? 'neither ok nor failed'} (${failure?.message ?? ''})`);
      assert.ok(!(outcome.ok.includes(id) && failure), `device ${id} is either ok or failed, not both`);
    }
    assert.deepEqual(await devices.userIds(holds), [], 'the user it held is gone');
  });

  it('a device the gateway has no entry for is `unavailable`, never `absent`: a delete to it is not done', async (subject) => {
    const { transport, devices } = subject;
    const [device] = twoDevices(subject);
    const unknown = devices.unknownDeviceId;
    assertOutcome(await transport.deleteUsers([device, unknown], ['92']), [device], [[unknown, 'unavailable']]);
    assertOutcome(await transport.enrollUsers([device, unknown], [plainUser('93')]), [device], [[unknown, 'unavailable']]);
  });

  it('full: a device without room fails with `full`; the others take the users', async (subject) => {
    const { transport, devices } = subject;
    const [full, roomy] = twoDevices(subject);
    const rest = devices.deviceIds.filter((id) => id !== full);
    await devices.leaveRoomFor(full, 1);
    const outcome = await transport.enrollUsers(devices.deviceIds, [plainUser('101'), plainUser('102')]);
    assertOutcome(outcome, rest, [[full, 'full']]);
    assert.deepEqual((await devices.userIds(roomy)).sort(), ['101', '102']);
    // One at a time, as the engine feeds a full device, it takes what fits and refuses the rest as full.
    assertOutcome(await transport.enrollUsers([full], [plainUser('101')]), [full]);
    assertOutcome(await transport.enrollUsers([full], [plainUser('102')]), [], [[full, 'full']]);
    assert.deepEqual(await devices.userIds(full), ['101']);
  });

  it('full: a full device still takes a new version of a user it holds', async (subject) => {
    const { transport, devices } = subject;
    const [full] = twoDevices(subject);
    assertOutcome(await transport.enrollUsers([full], [plainUser('111')]), [full]);
    await devices.leaveRoomFor(full, 0);
    assertOutcome(await transport.enrollUsers([full], [plainUser('111', 'New name')]), [full]);
    assert.equal((await transport.getUsers(full, ['111']))[0]?.name, 'New name');
    assertOutcome(await transport.enrollUsers([full], [plainUser('112')]), [], [[full, 'full']]);
  });

  it('unavailable: a device off the network fails with `unavailable` alone, and works again once back', async (subject) => {
    const { transport, devices } = subject;
    const [down] = twoDevices(subject);
    const rest = devices.deviceIds.filter((id) => id !== down);
    await devices.disconnect(down);
    assertOutcome(await transport.enrollUsers(devices.deviceIds, [plainUser('121')]), rest, [[down, 'unavailable']]);
    assertOutcome(await transport.deleteUsers(devices.deviceIds, ['121']), rest, [[down, 'unavailable']]);
    await devices.reconnect(down);
    assertOutcome(await transport.enrollUsers(devices.deviceIds, [plainUser('122')]), devices.deviceIds);
    assert.deepEqual(await devices.userIds(down), ['122']);
  });

  it('unknown: a user one device chokes on fails that device alone with `unknown`; without it the device takes the rest', async (subject) => {
    const { transport, devices } = subject;
    const [chokes] = twoDevices(subject);
    const rest = devices.deviceIds.filter((id) => id !== chokes);
    await devices.poisonUser(chokes, '142');
    const batch = ['141', '142', '143'].map((id) => plainUser(id));
    assertOutcome(await transport.enrollUsers(devices.deviceIds, batch), rest, [[chokes, 'unknown']]);
    for (const id of rest) assert.deepEqual((await devices.userIds(id)).sort(), ['141', '142', '143'], `device ${id}`);
    assert.ok(!(await devices.userIds(chokes)).includes('142'));
    // Split, the users not at fault go through: this is how the engine finds the one at fault.
    assertOutcome(await transport.enrollUsers([chokes], [batch[0]!, batch[2]!]), [chokes]);
    assertOutcome(await transport.enrollUsers([chokes], [batch[1]!]), [], [[chokes, 'unknown']]);
  });

  it('unknown: a call that fails as a whole for a user rejects with reason `unknown` in its detail', async (subject) => {
    const { transport, devices } = subject;
    const [chokes] = twoDevices(subject);
    await devices.poisonUser(chokes, '152', true);
    await assert.rejects(transport.enrollUsers([chokes], [plainUser('151'), plainUser('152')]), (error: unknown) => {
      assert.equal((error as { detail?: Record<string, unknown> }).detail?.['reason'], 'unknown', String(error));
      return true;
    });
    assertOutcome(await transport.enrollUsers([chokes], [plainUser('151')]), [chokes]);
  });

  it('timeout: a batch too big for a device fails that device with `timeout`; smaller ones go through', async (subject) => {
    const { transport, devices } = subject;
    const [slow] = twoDevices(subject);
    const rest = devices.deviceIds.filter((id) => id !== slow);
    await devices.timeOutAbove(slow, 2);
    const batch = ['161', '162', '163', '164'].map((id) => plainUser(id));
    assertOutcome(await transport.enrollUsers(devices.deviceIds, batch), rest, [[slow, 'timeout']]);
    assertOutcome(await transport.enrollUsers([slow], batch.slice(0, 2)), [slow]);
    assertOutcome(await transport.enrollUsers([slow], batch.slice(2)), [slow]);
    assert.deepEqual((await devices.userIds(slow)).sort(), ['161', '162', '163', '164']);
  });

  it('different failures in one call each keep their own reason', async (subject) => {
    const { transport, devices } = subject;
    const [down, full] = twoDevices(subject);
    await devices.disconnect(down);
    await devices.leaveRoomFor(full, 0);
    const rest = devices.deviceIds.filter((id) => id !== down && id !== full);
    assertOutcome(await transport.enrollUsers(devices.deviceIds, [plainUser('131')]), rest, [
      [down, 'unavailable'],
      [full, 'full'],
    ]);
  });
}
