/**
 * Placing from a user's summary answers as placing the whole user does (placement.ts), for
 * every user of a table on every device of a table: copy counts, what is left off, rule
 * breaks and targeting. Where the summary cannot tell it says so ('read'), and only then.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyUser, type User } from '../../../daemon/model/user.js';
import type { DeviceRecord } from '../../../daemon/model/device.js';
import { holdsShapeId, type DeviceHolds } from '../../../daemon/model/device-copy.js';
import { summarizeUser } from '../../../daemon/model/user-summary.js';
import { placement, type DeviceRules } from '../../../daemon/sync/placement.js';
import { SummaryPlacer } from '../../../daemon/sync/summary-placement.js';
import { expectedOf } from '../../../daemon/sync/reconcile-diff.js';
import allDevices from '../../../plugins/sync-modes/all-devices/index.js';
import accessGroupDevices from '../../../plugins/sync-modes/access-group-devices/index.js';

const pin = Buffer.alloc(32, 5).toString('base64');
const card = { type: 1, data: 'AQ==' };
const finger = (index: number) => ({ index, flag: 0, templates: ['AAEC', 'AwQF'] });
const visual = (index: number) => ({ index, flag: 0x100, templates: ['Zm9v'] });
const ir = (index: number) => ({ index, flag: 0, templates: ['YmFy'] });
const u = (id: string, extra: Partial<User> = {}): User => ({ ...emptyUser(id), name: `User ${id}`, accessGroups: [1], ...extra });

const users: User[] = [
  u('1'),
  u('2', { cards: [card, card, card], pinHash: pin, pinHashScheme: 'aa11' }),
  u('3', { fingers: [finger(0), finger(1), finger(2)], pinHash: pin }),
  u('4', { faces: [visual(0), ir(1), visual(2)], accessGroups: [2] }),
  u('5', { faces: [ir(0), ir(1)], fingers: [finger(0)], cards: [card], accessGroups: [1, 2] }),
  u('A-7', { cards: [card] }),
  u('0'),
  u('99999999999'),
  // Breaks a rule besides its ID's: the summary cannot tell what a copy of it breaks.
  u('8', { fingers: Array.from({ length: 11 }, (_, i) => finger(i)) }),
  u('9', { name: 'x'.repeat(60) }),
];

const deviceHolds: (DeviceHolds | undefined)[] = [
  undefined,
  {},
  { fingerprints: false, faces: 'visual', maxFaces: 1, cards: true, maxCards: 2, pin: true },
  { fingerprints: true, maxFingerprints: 2, templateFormat: 1, faces: 'ir', cards: false, pin: false },
  { faces: 'none', maxCards: 1 },
];

const record = (accessGroups: number[]): DeviceRecord => ({ id: 7, source: 'config', lastEventId: 0, accessGroups });

test('a summary places a user as the whole record does, or says the record must be read', () => {
  let compared = 0;
  let read = 0;
  for (const mode of [allDevices.create({} as never, {}), accessGroupDevices.create({} as never, {})]) {
    for (const holds of deviceHolds) {
      for (const site of [{}, { pinHashScheme: 'aa11', templateFormat: 0 }]) {
        for (const alphanumericIds of [false, true]) {
          const rules: DeviceRules = holds ? { alphanumericIds, holds, site, shape: holdsShapeId(holds, site) } : { alphanumericIds };
          for (const groups of [[1], [2], []]) {
            const device = record(groups);
            const placer = new SummaryPlacer(mode, device, rules);
            for (const user of users) {
              const whole = placement(user, device, mode, rules, 'restore');
              const where = placer.place(summarizeUser(user));
              const what = `user ${user.id}, holds ${JSON.stringify(holds)}, site ${JSON.stringify(site)}, alphanumeric ${alphanumericIds}, groups ${groups}`;
              if (where.place === 'read') {
                assert.equal(summarizeUser(user).sound, false, `only a record that is not sound is read: ${what}`);
                read += 1;
                continue;
              }
              compared += 1;
              if (whole.place) {
                assert.equal(where.place, true, what);
                const { hash: _hash, ...counts } = expectedOf(whole.copy, whole.hash, whole.leftOff);
                assert.deepEqual(where.place && where.expected, counts, what);
              } else {
                assert.deepEqual(where, { place: false, why: whole.why }, what);
              }
            }
          }
        }
      }
    }
  }
  assert.ok(compared > 1000 && read > 0, `${compared} compared, ${read} read`);
});

test('summaries are not used for a device with limits of its own, or a sync mode that cannot target from them', () => {
  const mode = allDevices.create({} as never, {});
  assert.equal(SummaryPlacer.usable(mode, { alphanumericIds: false }), true);
  assert.equal(SummaryPlacer.usable(mode, { alphanumericIds: false, limits: { maxCards: 2 } }), false);
  assert.equal(SummaryPlacer.usable({ targets: () => true } as never, { alphanumericIds: false }), false);
});
