import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { FORMAT, code, csn, failure, finger, template, unary, user } from './gsdk-client.js';
import { running, type Running } from './harness.js';

describe('gsdk.user.User', () => {
  let r: Running;
  before(async () => {
    r = await running([
      { id: 1001 },
      { id: 1002, maxUsers: 3 },
      { id: 1003, templateFormat: 'ISO' },
      { id: 1004, alphanumericIDSupported: false },
      { id: 1005 },
    ]);
  });
  after(() => r.close());

  const call = (method: string, request: object) => unary(r.c.user, method, request);

  test('Enroll then Get returns the user as stored, header counts from the credentials', async () => {
    await call('Enroll', {
      deviceID: 1001,
      users: [user('10', { name: 'Ana', cards: [csn(10)], fingers: [finger()], accessGroupIDs: [1, 2], hdr: { ID: '10', numOfCard: 7 } })],
      overwrite: false,
    });
    const { users } = await call('Get', { deviceID: 1001, userIDs: ['10'] });
    assert.equal(users.length, 1);
    const [u] = users;
    assert.equal(u.hdr.ID, '10');
    assert.equal(u.hdr.numOfCard, 1);
    assert.equal(u.hdr.numOfFinger, 1);
    assert.equal(u.name, 'Ana');
    assert.deepEqual(u.accessGroupIDs, [1, 2]);
    assert.deepEqual(u.cards[0].data, (csn(10) as { data: Buffer }).data);
    assert.equal(u.fingers[0].templates.length, 2);
    assert.equal(u.setting.cardAuthMode, 255, 'no setting given: the device default (255)');
  });

  test('Enroll without overwrite of an existing ID is ALREADY_EXISTS and changes nothing', async () => {
    await call('Enroll', { deviceID: 1001, users: [user('20', { name: 'First' })], overwrite: false });
    const error = await failure(call('Enroll', { deviceID: 1001, users: [user('21'), user('20', { name: 'Second' })], overwrite: false }));
    assert.equal(error.code, code.ALREADY_EXISTS);
    const { users } = await call('Get', { deviceID: 1001, userIDs: ['20'] });
    assert.equal(users[0].name, 'First');
    const missing = await failure(call('Get', { deviceID: 1001, userIDs: ['21'] }));
    assert.equal(missing.code, code.NOT_FOUND, 'the call is atomic: 21 was not enrolled either');
  });

  test('Enroll with overwrite replaces the user whole', async () => {
    await call('Enroll', { deviceID: 1001, users: [user('30', { name: 'Old', cards: [csn(1)] })], overwrite: false });
    await call('Enroll', { deviceID: 1001, users: [user('30', { name: 'New' })], overwrite: true });
    const { users } = await call('Get', { deviceID: 1001, userIDs: ['30'] });
    assert.equal(users[0].name, 'New');
    assert.equal(users[0].cards.length, 0);
  });

  test('the same ID twice in one request is INVALID_ARGUMENT', async () => {
    const error = await failure(call('Enroll', { deviceID: 1001, users: [user('31'), user('31')], overwrite: true }));
    assert.equal(error.code, code.INVALID_ARGUMENT);
  });

  test('capacity: RESOURCE_EXHAUSTED when maxUsers would be passed; overwriting does not count', async () => {
    await call('Enroll', { deviceID: 1002, users: [user('1'), user('2'), user('3')], overwrite: false });
    const error = await failure(call('Enroll', { deviceID: 1002, users: [user('4')], overwrite: false }));
    assert.equal(error.code, code.RESOURCE_EXHAUSTED);
    await call('Enroll', { deviceID: 1002, users: [user('3', { name: 'again' })], overwrite: true });
    const { hdrs } = await call('GetList', { deviceID: 1002 });
    assert.deepEqual(hdrs.map((h: { ID: string }) => h.ID), ['1', '2', '3']);
  });

  test('device rules are INVALID_ARGUMENT with the rule in the message', async () => {
    const cases: [string, object][] = [
      ['id-zero', user('0')],
      ['id-not-numeric', user('abc')],
      ['id-too-long', user('1'.repeat(33))],
      ['name-too-long', user('40', { name: 'x'.repeat(49) })],
      ['too-many-cards', user('40', { cards: Array.from({ length: 9 }, (_, i) => csn(i + 1)) })],
      ['card-data-too-long', user('40', { cards: [{ type: 1, size: 32, data: Buffer.alloc(33) }] })],
      ['too-many-fingers', user('40', { fingers: Array.from({ length: 11 }, (_, i) => finger(FORMAT.SUPREMA, i)) })],
      ['finger-template-count', user('40', { fingers: [{ index: 0, flag: 0, templates: [template(0)] }] })],
      ['finger-template-too-large', user('40', { fingers: [{ index: 0, flag: 0, templates: [template(0, 385), template(0)] }] })],
      ['finger-template-format', user('40', { fingers: [finger(FORMAT.ANSI)] })],
      // The default model (FACESTATION_F2_FP) holds 2 visual faces per user.
      ['too-many-faces', user('40', { faces: Array.from({ length: 3 }, () => ({ flag: 0x100, templates: [Buffer.alloc(8)] })) })],
      ['face-ir-on-visual', user('41', { faces: [{ templates: [Buffer.alloc(8)] }] })],
      ['too-many-access-groups', user('40', { accessGroupIDs: Array.from({ length: 17 }, (_, i) => i + 1) })],
      ['too-many-job-codes', user('40', { jobCodes: Array.from({ length: 17 }, (_, i) => ({ code: i, label: '' })) })],
      ['job-label-too-long', user('40', { jobCodes: [{ code: 1, label: 'x'.repeat(49) }] })],
      ['pin-not-hash', user('40', { PIN: Buffer.from('1234') })],
      ['photo-too-large', user('40', { photo: Buffer.alloc(16385) })],
    ];
    for (const [rule, u] of cases) {
      const error = await failure(call('Enroll', { deviceID: 1001, users: [u], overwrite: true }));
      assert.equal(error.code, code.INVALID_ARGUMENT, rule);
      assert.match(error.details, new RegExp(`\\[${rule}\\]`), rule);
    }
    await failure(call('Get', { deviceID: 1001, userIDs: ['40'] })).then((e) => assert.equal(e.code, code.NOT_FOUND));
  });

  test('the template format is per device: ISO templates go to the ISO device only', async () => {
    const iso = user('50', { fingers: [finger(FORMAT.ISO)] });
    await call('Enroll', { deviceID: 1003, users: [iso], overwrite: false });
    const error = await failure(call('Enroll', { deviceID: 1001, users: [iso], overwrite: false }));
    assert.equal(error.code, code.INVALID_ARGUMENT);
    assert.match(error.details, /finger-template-format/);
  });

  test('alphanumeric IDs: refused until System.SetConfig turns them on; unsupported devices refuse the switch', async () => {
    const first = await failure(call('Enroll', { deviceID: 1005, users: [user('ana')], overwrite: false }));
    assert.equal(first.code, code.INVALID_ARGUMENT);
    await unary(r.c.system, 'SetConfig', { deviceID: 1005, config: { useAlphanumericID: true } });
    assert.deepEqual(await unary(r.c.system, 'GetConfig', { deviceID: 1005 }), { config: { useAlphanumericID: true } });
    await call('Enroll', { deviceID: 1005, users: [user('ana')], overwrite: false });
    const off = await failure(unary(r.c.system, 'SetConfig', { deviceID: 1005, config: { useAlphanumericID: false } }));
    assert.equal(off.code, code.FAILED_PRECONDITION, 'cannot turn off while holding non-numeric IDs');
    const unsupported = await failure(unary(r.c.system, 'SetConfig', { deviceID: 1004, config: { useAlphanumericID: true } }));
    assert.equal(unsupported.code, code.FAILED_PRECONDITION);
  });

  test('GetPartial returns only the parts of the InfoMask', async () => {
    await call('Enroll', { deviceID: 1001, users: [user('60', { name: 'Part', cards: [csn(60)], PIN: Buffer.alloc(32, 1) })], overwrite: true });
    const { users } = await call('GetPartial', { deviceID: 1001, userIDs: ['60'], infoMask: 0x04 | 0x20 });
    assert.equal(users[0].hdr.ID, '60');
    assert.equal(users[0].name, 'Part');
    assert.equal(users[0].cards.length, 1);
    assert.equal(users[0].PIN.length, 0);
    assert.equal(users[0].setting, null);
    const idOnly = await call('GetPartial', { deviceID: 1001, userIDs: ['60'], infoMask: 0 });
    assert.equal(idOnly.users[0].name, '');
    assert.equal(idOnly.users[0].hdr.numOfCard, 0);
  });

  test('Update applies UpdateMask: set bits keep the stored part; an unknown user is NOT_FOUND', async () => {
    await call('Enroll', { deviceID: 1001, users: [user('70', { name: 'Keep', cards: [csn(70)], PIN: Buffer.alloc(32, 3) })], overwrite: true });
    // CARD (0x20) | PIN (0x10) kept; the name comes from the request.
    await call('Update', { deviceID: 1001, users: [user('70', { hdr: { ID: '70', updateMask: 0x30 }, name: 'Changed' })] });
    let [u] = (await call('Get', { deviceID: 1001, userIDs: ['70'] })).users;
    assert.equal(u.name, 'Changed');
    assert.equal(u.cards.length, 1);
    assert.equal(u.PIN.length, 32);
    assert.equal(u.hdr.updateMask, 0, 'the mask is an instruction, not stored');
    await call('Update', { deviceID: 1001, users: [user('70', { name: 'All new' })] });
    [u] = (await call('Get', { deviceID: 1001, userIDs: ['70'] })).users;
    assert.equal(u.cards.length, 0, 'KEEP_NONE replaces the user whole');
    const error = await failure(call('Update', { deviceID: 1001, users: [user('71')] }));
    assert.equal(error.code, code.NOT_FOUND);
  });

  test('Delete skips IDs the device does not hold; DeleteAll empties the device', async () => {
    await call('Enroll', { deviceID: 1001, users: [user('80'), user('81')], overwrite: true });
    await call('Delete', { deviceID: 1001, userIDs: ['80', '89'] });
    assert.equal((await failure(call('Get', { deviceID: 1001, userIDs: ['80'] }))).code, code.NOT_FOUND);
    assert.equal((await call('Get', { deviceID: 1001, userIDs: ['81'] })).users.length, 1);
    await call('DeleteAll', { deviceID: 1001 });
    assert.deepEqual((await call('GetList', { deviceID: 1001 })).hdrs, []);
    const { userStatistic } = await call('GetStatistic', { deviceID: 1001 });
    assert.equal(userStatistic.numOfUsers, 0);
    assert.equal(userStatistic.numOfCards, 0);
  });

  test('Get/Set of cards, fingers, faces, access groups and job codes', async () => {
    await call('Enroll', { deviceID: 1001, users: [user('90', { name: 'Parts' })], overwrite: true });
    await call('SetCard', { deviceID: 1001, userCards: [{ userID: '90', cards: [csn(1), csn(2)] }] });
    await call('SetFinger', { deviceID: 1001, userFingers: [{ userID: '90', fingers: [finger(FORMAT.SUPREMA, 0), finger(FORMAT.SUPREMA, 1)] }] });
    await call('SetFace', { deviceID: 1001, userFaces: [{ userID: '90', faces: [{ index: 0, flag: 0x100, templates: [Buffer.alloc(16, 5)], imageData: Buffer.alloc(4, 6) }] }] });
    await call('SetAccessGroup', { deviceID: 1001, userAccessGroups: [{ userID: '90', accessGroupIDs: [3, 4, 5] }] });
    await call('SetJobCode', { deviceID: 1001, userJobCodes: [{ userID: '90', jobCodes: [{ code: 7, label: 'Night' }] }] });

    assert.equal((await call('GetCard', { deviceID: 1001, userIDs: ['90'] })).userCards[0].cards.length, 2);
    assert.equal((await call('GetFinger', { deviceID: 1001, userIDs: ['90'] })).userFingers[0].fingers.length, 2);
    const face = (await call('GetFace', { deviceID: 1001, userIDs: ['90'] })).userFaces[0].faces[0];
    assert.deepEqual(face.imageData, Buffer.alloc(4, 6));
    assert.deepEqual((await call('GetAccessGroup', { deviceID: 1001, userIDs: ['90'] })).userAccessGroups[0], { userID: '90', accessGroupIDs: [3, 4, 5] });
    assert.deepEqual((await call('GetJobCode', { deviceID: 1001, userIDs: ['90'] })).userJobCodes[0], { userID: '90', jobCodes: [{ code: 7, label: 'Night' }] });

    const [u] = (await call('Get', { deviceID: 1001, userIDs: ['90'] })).users;
    assert.equal(u.name, 'Parts', 'setting one part keeps the others');
    assert.equal(u.hdr.numOfCard, 2);
    assert.equal(u.hdr.numOfFinger, 2);
    assert.equal(u.hdr.numOfFace, 1);

    const stat = (await call('GetStatistic', { deviceID: 1001 })).userStatistic;
    assert.deepEqual(stat, { numOfUsers: 1, numOfCards: 2, numOfFingerprints: 2, numOfFaces: 1, numOfNames: 1, numOfImages: 0, numOfPhrases: 0 });

    const unknown = await failure(call('SetCard', { deviceID: 1001, userCards: [{ userID: '404', cards: [] }] }));
    assert.equal(unknown.code, code.NOT_FOUND);
    const tooMany = await failure(call('SetAccessGroup', { deviceID: 1001, userAccessGroups: [{ userID: '90', accessGroupIDs: Array.from({ length: 17 }, (_, i) => i) }] }));
    assert.equal(tooMany.code, code.INVALID_ARGUMENT);
  });

  test('GetPINHash: the labelled stand-in, SHA-256 of the UTF-8 PIN (32 bytes); empty or > 16 bytes refused', async () => {
    const { hashVal } = await call('GetPINHash', { PIN: '1234' });
    assert.equal(hashVal.length, 32);
    assert.deepEqual(hashVal, createHash('sha256').update('1234').digest());
    assert.equal((await failure(call('GetPINHash', { PIN: '' }))).code, code.INVALID_ARGUMENT);
    assert.equal((await failure(call('GetPINHash', { PIN: '1'.repeat(17) }))).code, code.INVALID_ARGUMENT);
    await call('GetPINHash', { PIN: '1'.repeat(16) });
    const keyed = await call('GetPINHashWithKey', { PIN: '1234', hashKey: Buffer.from('site key') });
    assert.equal(keyed.hashVal.length, 32);
    assert.notDeepEqual(keyed.hashVal, hashVal);
    const hash = hashVal as Buffer;
    await call('Enroll', { deviceID: 1001, users: [user('95', { PIN: hash })], overwrite: true });
  });

  test('unknown device is NOT_FOUND; user calls on it fail before any change', async () => {
    assert.equal((await failure(call('GetList', { deviceID: 4242 }))).code, code.NOT_FOUND);
    assert.equal((await failure(call('Enroll', { deviceID: 4242, users: [user('1')], overwrite: false }))).code, code.NOT_FOUND);
  });

  test('user changes through the gateway log events with subCode 1', async () => {
    const before = r.sim.device(1001).events().at(-1)?.ID ?? 0;
    await call('Enroll', { deviceID: 1001, users: [user('100')], overwrite: true });
    await call('Update', { deviceID: 1001, users: [user('100', { name: 'x' })] });
    await call('Delete', { deviceID: 1001, userIDs: ['100'] });
    await call('DeleteAll', { deviceID: 1001 });
    const { events } = await unary(r.c.event, 'GetLog', { deviceID: 1001, startEventID: before + 1, maxNumOfLog: 0 });
    assert.deepEqual(
      events.map((e: { eventCode: number; subCode: number; userID: string; changedOnDevice: boolean }) => [e.eventCode, e.subCode, e.userID, e.changedOnDevice]),
      [
        [0x2000, 1, '100', false],
        [0x2200, 1, '100', false],
        [0x2400, 1, '100', false],
        [0x2600, 1, '', false],
      ],
    );
  });
});
