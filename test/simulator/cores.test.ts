import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InfoMask, UpdateMask, UserFlag, UserInfo } from '../../proto/gen/gsdk/user.js';
import { DeviceEventLog } from '../../simulator/event-log.js';
import { DeviceFaults, seededRandom } from '../../simulator/faults.js';
import { UserContentPool } from '../../simulator/content-pool.js';
import { applyInfoMask, applyUpdateMask, normalizeUser, prepareUser } from '../../simulator/user-record.js';
import { csnCardFromDecimal, decimalOfCsnCard } from '../../simulator/conventions.js';
import { allows } from '../../simulator/accept-filter.js';
import type { AcceptFilter } from '../../proto/gen/gsdk/connect.js';

const full = UserInfo.fromPartial({
  hdr: { ID: '7', userFlag: UserFlag.USER_FLAG_DISABLED | UserFlag.USER_FLAG_CREATED, authGroupID: 3, updateMask: 0xff },
  setting: { startTime: 10, endTime: 20, biometricAuthMode: 1 },
  name: 'Seven',
  cards: [{ type: 1, size: 32, data: Buffer.alloc(32, 1) }],
  fingers: [{ index: 0, flag: 0, templates: [Buffer.from([0, 1]), Buffer.from([0, 2])] }],
  faces: [{ index: 0, flag: 0, templates: [Buffer.from([5])] }],
  accessGroupIDs: [1, 2],
  jobCodes: [{ code: 1, label: 'a' }],
  PIN: Buffer.alloc(32, 2),
  photo: Buffer.from([1, 2, 3]),
});

describe('normalizeUser', () => {
  test('header counts follow the credentials; only DISABLED survives; updateMask is not stored', () => {
    const user = normalizeUser({ ...full, hdr: { ...full.hdr!, numOfCard: 5, numOfFinger: 0, numOfFace: 9 } });
    assert.deepEqual(user.hdr, {
      ID: '7',
      userFlag: UserFlag.USER_FLAG_DISABLED,
      numOfCard: 1,
      numOfFinger: 1,
      numOfFace: 1,
      authGroupID: 3,
      updateMask: 0,
    });
  });
  test('a user without setting gets the device default: auth modes 255', () => {
    const user = normalizeUser(UserInfo.fromPartial({ hdr: { ID: '1' } }));
    assert.equal(user.setting?.biometricAuthMode, 255);
    assert.equal(user.setting?.cardAuthMode, 255);
    assert.equal(user.setting?.IDAuthMode, 255);
    assert.equal(user.setting?.startTime, 0);
  });
});

describe('applyInfoMask', () => {
  const cases: [string, number, (u: UserInfo) => void][] = [
    ['ID_ONLY keeps only the ID', InfoMask.INFO_MASK_ID_ONLY, (u) => {
      assert.equal(u.hdr?.ID, '7');
      assert.equal(u.hdr?.numOfCard, 0);
      assert.equal(u.name, '');
      assert.equal(u.cards.length, 0);
      assert.equal(u.setting, undefined);
    }],
    ['HDR', InfoMask.INFO_MASK_HDR, (u) => assert.equal(u.hdr?.numOfCard, 1)],
    ['NAME|CARD', InfoMask.INFO_MASK_NAME | InfoMask.INFO_MASK_CARD, (u) => {
      assert.equal(u.name, 'Seven');
      assert.equal(u.cards.length, 1);
      assert.equal(u.fingers.length, 0);
      assert.equal(u.PIN.length, 0);
    }],
    ['FINGER|FACE|PIN|PHOTO', InfoMask.INFO_MASK_FINGER | InfoMask.INFO_MASK_FACE | InfoMask.INFO_MASK_PIN | InfoMask.INFO_MASK_PHOTO, (u) => {
      assert.equal(u.fingers.length, 1);
      assert.equal(u.faces.length, 1);
      assert.equal(u.PIN.length, 32);
      assert.equal(u.photo.length, 3);
      assert.equal(u.name, '');
    }],
    ['ACCESS_GROUP|JOB|SETTING', InfoMask.INFO_MASK_ACCESS_GROUP | InfoMask.INFO_MASK_JOB | InfoMask.INFO_MASK_SETTING, (u) => {
      assert.deepEqual(u.accessGroupIDs, [1, 2]);
      assert.equal(u.jobCodes.length, 1);
      assert.equal(u.setting?.startTime, 10);
    }],
    ['ALL', InfoMask.INFO_MASK_ALL, (u) => assert.deepEqual(u, normalizeUser(full))],
  ];
  for (const [name, mask, check] of cases) test(name, () => check(applyInfoMask(normalizeUser(full), mask)));
});

describe('applyUpdateMask', () => {
  const incoming = UserInfo.fromPartial({ hdr: { ID: '7' }, name: 'New', accessGroupIDs: [9] });
  const cases: [string, number, (u: UserInfo) => void][] = [
    ['KEEP_NONE replaces everything', UpdateMask.UPDATE_MASK_KEEP_NONE, (u) => {
      assert.equal(u.name, 'New');
      assert.equal(u.cards.length, 0);
      assert.equal(u.PIN.length, 0);
    }],
    ['CARD keeps the cards', UpdateMask.UPDATE_MASK_CARD, (u) => {
      assert.equal(u.cards.length, 1);
      assert.equal(u.fingers.length, 0);
      assert.equal(u.name, 'New');
    }],
    ['KEEP_ALL keeps every credential; access groups still come from the request', UpdateMask.UPDATE_MASK_KEEP_ALL, (u) => {
      assert.equal(u.name, 'Seven');
      assert.equal(u.cards.length, 1);
      assert.equal(u.fingers.length, 1);
      assert.equal(u.faces.length, 1);
      assert.equal(u.PIN.length, 32);
      assert.equal(u.photo.length, 3);
      assert.equal(u.jobCodes.length, 1);
      assert.deepEqual(u.accessGroupIDs, [9]);
    }],
  ];
  for (const [name, mask, check] of cases) test(name, () => check(applyUpdateMask(normalizeUser(full), incoming, mask)));
});

describe('UserContentPool', () => {
  test('identical users share one record; the last release forgets it', () => {
    const pool = new UserContentPool();
    const a = pool.acquire(prepareUser(full));
    const b = pool.acquire(prepareUser(UserInfo.decode(UserInfo.encode(full).finish())));
    assert.equal(a, b);
    assert.equal(a.refs, 2);
    assert.equal(pool.size, 1);
    const c = pool.acquire(prepareUser({ ...full, name: 'Other' }));
    assert.notEqual(c, a);
    assert.equal(pool.size, 2);
    pool.release(a);
    pool.release(b);
    assert.equal(pool.size, 1);
    pool.release(c);
    assert.equal(pool.size, 0);
  });
});

describe('DeviceEventLog', () => {
  const input = (code: number) => ({ eventCode: code, subCode: 1, userID: `u${code}`, entityID: 0, changedOnDevice: false });

  test('IDs start at 1 and increase; GetLog is inclusive, 0 = oldest, max 0 = all', () => {
    const log = new DeviceEventLog(5, 100);
    assert.equal(log.lastId, 0);
    assert.deepEqual(log.read(0, 0), []);
    for (let i = 1; i <= 10; i += 1) assert.equal(log.append(input(i), 1000).ID, i);
    assert.deepEqual(log.read(0, 0).map((e) => e.ID), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(log.read(4, 3).map((e) => e.ID), [4, 5, 6]);
    assert.deepEqual(log.read(10, 0).map((e) => e.ID), [10]);
    assert.deepEqual(log.read(11, 0), []);
    const e = log.read(3, 1)[0];
    assert.equal(e?.deviceID, 5);
    assert.equal(e?.userID, 'u3');
    assert.equal(e?.eventCode, 3);
  });

  test('grows past its first allocation and keeps the newest `capacity` events', () => {
    const log = new DeviceEventLog(1, 3000);
    for (let i = 1; i <= 5000; i += 1) log.append(input(i % 60000), i);
    assert.equal(log.lastId, 5000);
    assert.equal(log.firstId, 2001);
    assert.equal(log.size, 3000);
    const events = log.read(0, 0);
    assert.equal(events.length, 3000);
    assert.equal(events[0]?.ID, 2001);
    assert.equal(events[0]?.timestamp, 2001);
    assert.equal(events[2999]?.ID, 5000);
    assert.equal(events[2999]?.userID, 'u5000');
    assert.deepEqual(log.read(1, 2).map((e) => e.ID), [2001, 2002]);
  });
});

describe('DeviceFaults', () => {
  test('hang first, then forced errors, then the error rate; latency on every answer', () => {
    const faults = new DeviceFaults(1);
    faults.set({ hangCount: 1, failNextCount: 2, failNextCode: 13, latencyMs: 5 });
    assert.deepEqual(faults.next(), { kind: 'hang' });
    assert.deepEqual(faults.next(), { kind: 'fail', latencyMs: 5, code: 13, reason: 'injected error (next calls)' });
    assert.equal(faults.next().kind, 'fail');
    assert.deepEqual(faults.next(), { kind: 'pass', latencyMs: 5 });
    faults.clear();
    assert.deepEqual(faults.next(), { kind: 'pass', latencyMs: 0 });
  });

  test('the error rate is seeded: same seed, same failures', () => {
    const draw = (seed: number): string => {
      const faults = new DeviceFaults(1);
      faults.set({ errorRate: 0.5, errorRateSeed: seed });
      return Array.from({ length: 200 }, () => (faults.next().kind === 'fail' ? 'x' : '.')).join('');
    };
    assert.equal(draw(42), draw(42));
    assert.notEqual(draw(42), draw(43));
    const failures = [...draw(42)].filter((c) => c === 'x').length;
    assert.ok(failures > 50 && failures < 150, `about half fail, got ${failures}`);
  });

  test('code 0 is not a fault: it becomes UNAVAILABLE', () => {
    const faults = new DeviceFaults(1);
    assert.equal(faults.set({ failNextCode: 0, failNextCount: 1 }).failNextCode, 14);
  });

  test('seededRandom is in [0, 1)', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 1000; i += 1) {
      const x = random();
      assert.ok(x >= 0 && x < 1);
    }
  });
});

describe('conventions', () => {
  test('a CSN in decimal is big-endian, left-padded to 32 bytes', () => {
    const card = csnCardFromDecimal('305419896');
    assert.equal(card.type, 1);
    assert.equal(card.size, 32);
    assert.equal(card.data.length, 32);
    assert.deepEqual([...card.data.subarray(28)], [0x12, 0x34, 0x56, 0x78]);
    assert.ok(card.data.subarray(0, 28).every((b) => b === 0));
    assert.equal(decimalOfCsnCard(card), '305419896');
    const big = '123456789012345678901234567890';
    assert.equal(decimalOfCsnCard(csnCardFromDecimal(big)), big);
    assert.throws(() => csnCardFromDecimal('0'));
    assert.throws(() => csnCardFromDecimal('12x'));
    assert.throws(() => csnCardFromDecimal((2n ** 256n).toString()));
  });
});

describe('accept filter', () => {
  const device = { id: 7, ipAddr: '192.168.1.20' };
  const none: AcceptFilter = { allowAll: false, deviceIDs: [], IPAddrs: [], subnetMasks: [] };
  const cases: [string, typeof none, boolean][] = [
    ['nothing allowed', none, false],
    ['allowAll', { ...none, allowAll: true }, true],
    ['by device ID', { ...none, deviceIDs: [7] }, true],
    ['other device ID', { ...none, deviceIDs: [8] }, false],
    ['by exact IP', { ...none, IPAddrs: ['192.168.1.20'] }, true],
    ['by subnet', { ...none, IPAddrs: ['192.168.1.0'], subnetMasks: ['255.255.255.0'] }, true],
    ['other subnet', { ...none, IPAddrs: ['192.168.2.0'], subnetMasks: ['255.255.255.0'] }, false],
  ];
  for (const [name, filter, expected] of cases) test(name, () => assert.equal(allows(filter, device), expected));
});
