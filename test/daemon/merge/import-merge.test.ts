import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isRollcallError } from '../../../daemon/errors.js';
import { applyImportPatch, type ImportMergeOptions } from '../../../daemon/merge/import-merge.js';
import { CardType, emptyUser, type Card, type User } from '../../../daemon/model/user.js';
import type { UserPatch } from '../../../daemon/plugins/api.js';

const csn = (n: number | bigint, width = 32): Card => {
  const bytes = Buffer.alloc(width);
  let rest = BigInt(n);
  for (let i = width - 1; i >= 0 && rest > 0n; i--, rest >>= 8n) bytes[i] = Number(rest & 0xffn);
  return { type: CardType.CSN, data: bytes.toString('base64') };
};
const secure: Card = { type: CardType.SECURE, data: Buffer.from('aoc').toString('base64') };
const hash = Buffer.alloc(32, 1).toString('base64');

function stored(): User {
  return {
    ...emptyUser('1001'),
    name: 'Alice Kim',
    department: 'Security',
    phone: '010',
    startTime: 100,
    endTime: 200,
    cards: [csn(111), secure, csn(222)],
    pinHash: hash,
    fingers: [{ index: 0, flag: 0, templates: ['AAAA', 'BBBB'] }],
    accessGroups: [3],
    custom: { Remarks: 'night', Zone: 'B' },
  };
}

const overwrite: ImportMergeOptions = { mode: 'overwrite', blankClears: false };
const overwriteClearing: ImportMergeOptions = { mode: 'overwrite', blankClears: true };
const preserve: ImportMergeOptions = { mode: 'preserve', blankClears: false };

function patch(values: UserPatch['values'], blank: UserPatch['blank'] = []): UserPatch {
  return { id: '1001', values, blank };
}

function merged(existing: User | undefined, p: UserPatch, options: ImportMergeOptions): { user: User; changed: (keyof User)[] } {
  const result = applyImportPatch(existing, p, options);
  assert.ok('user' in result, 'expected a merge, got a skip');
  return result;
}

describe('applyImportPatch', () => {
  test('a new user is emptyUser plus the values, whatever the mode', () => {
    for (const options of [preserve, overwrite]) {
      const result = merged(undefined, patch({ name: 'New', cards: [csn(5)], custom: { Remarks: 'x', Zone: '' } }, ['department', 'custom']), options);
      assert.deepEqual(result.user, { ...emptyUser('1001'), name: 'New', cards: [csn(5)], custom: { Remarks: 'x' } });
      assert.deepEqual(result.changed, ['id', 'name', 'cards', 'custom']);
    }
  });

  test('preserve leaves an existing user alone', () => {
    assert.deepEqual(applyImportPatch(stored(), patch({ name: 'Other' }), preserve), { skipped: 'exists' });
  });

  test('overwrite replaces the mapped fields and keeps the rest', () => {
    const result = merged(stored(), patch({ name: 'Alice Park', endTime: 300, custom: { Remarks: 'day' } }), overwrite);
    assert.deepEqual(result.user, { ...stored(), name: 'Alice Park', endTime: 300, custom: { Remarks: 'day', Zone: 'B' } });
    assert.deepEqual(result.changed, ['name', 'endTime', 'custom']);
  });

  test('an identical re-import changes nothing', () => {
    const existing = stored();
    const result = merged(existing, patch({ name: 'Alice Kim', startTime: 100, cards: [csn(222)], custom: { Remarks: 'night' } }), overwrite);
    assert.deepEqual(result.changed, []);
    assert.equal(result.user, existing);
  });

  const blanks: { name: string; blank: UserPatch['blank']; values?: UserPatch['values']; options: ImportMergeOptions; expect: (u: User) => User; changed: (keyof User)[] }[] = [
    { name: 'blank csn keeps the cards', blank: ['cards'], options: overwrite, expect: (u) => u, changed: [] },
    { name: 'blank pin keeps the PIN hash', blank: ['pinHash'], options: overwrite, expect: (u) => u, changed: [] },
    { name: 'blank name keeps the name', blank: ['name', 'department'], options: overwrite, expect: (u) => u, changed: [] },
    {
      name: 'blank custom cell keeps that custom field',
      blank: ['custom'],
      values: { custom: { Remarks: '' } },
      options: overwrite,
      expect: (u) => u,
      changed: [],
    },
    {
      name: 'blankClears: blank csn removes the CSN cards only',
      blank: ['cards'],
      options: overwriteClearing,
      expect: (u) => ({ ...u, cards: [secure] }),
      changed: ['cards'],
    },
    {
      name: 'blankClears: blank pin removes the PIN hash',
      blank: ['pinHash'],
      options: overwriteClearing,
      expect: (u) => {
        const { pinHash: _, ...rest } = u;
        return rest;
      },
      changed: ['pinHash'],
    },
    {
      name: 'blankClears: blank text and dates clear',
      blank: ['name', 'department', 'startTime'],
      options: overwriteClearing,
      expect: (u) => {
        const { department: _, ...rest } = u;
        return { ...rest, name: '', startTime: 0 };
      },
      changed: ['name', 'startTime', 'department'],
    },
    {
      name: 'blankClears: a blank custom cell clears that field only',
      blank: ['custom'],
      values: { custom: { Remarks: '' } },
      options: overwriteClearing,
      expect: (u) => ({ ...u, custom: { Zone: 'B' } }),
      changed: ['custom'],
    },
  ];
  for (const row of blanks) {
    test(row.name, () => {
      const result = merged(stored(), patch(row.values ?? {}, row.blank), row.options);
      assert.deepEqual(result.user, row.expect(stored()));
      assert.deepEqual(result.changed, row.changed);
    });
  }

  test('a new csn replaces the first CSN card in place; other cards stay (no multi-card collapse)', () => {
    const result = merged(stored(), patch({ cards: [csn(333)] }), overwrite);
    assert.deepEqual(result.user.cards, [csn(333), secure, csn(222)]);
    assert.deepEqual(result.changed, ['cards']);
  });

  test('a csn the user already holds, in any width, changes nothing', () => {
    const existing = { ...stored(), cards: [csn(111, 4), secure, csn(222)] };
    for (const card of [csn(111), csn(222), csn(111, 8)]) {
      assert.deepEqual(merged(existing, patch({ cards: [card] }), overwrite).changed, []);
    }
  });

  test('a csn for a user with no CSN card is added beside the others', () => {
    const existing = { ...stored(), cards: [secure] };
    assert.deepEqual(merged(existing, patch({ cards: [csn(9)] }), overwrite).user.cards, [secure, csn(9)]);
  });

  test('several incoming CSN cards replace the unnamed ones in order', () => {
    const result = merged(stored(), patch({ cards: [csn(222), csn(7), csn(8)] }), overwrite);
    assert.deepEqual(result.user.cards, [csn(7), secure, csn(222), csn(8)]);
  });

  test('a hashed PIN is set; a plaintext one is refused without echoing it', () => {
    const other = Buffer.alloc(32, 9).toString('base64');
    assert.equal(merged(stored(), patch({ pinHash: other }), overwrite).user.pinHash, other);
    assert.throws(
      () => applyImportPatch(stored(), { ...patch({}), pin: '4821' }, overwrite),
      (error: unknown) => isRollcallError(error, 'ROLLCALL_ERR_IMPORT_ROW') && !error.message.includes('4821') && !JSON.stringify(error.detail).includes('4821'),
    );
  });

  test('the stored user is never mutated', () => {
    const existing = stored();
    const before = structuredClone(existing);
    merged(existing, patch({ name: 'X', cards: [csn(1)], custom: { Remarks: '' } }, ['pinHash']), overwriteClearing);
    assert.deepEqual(existing, before);
  });

  test('device-only fields are kept under overwrite', () => {
    const result = merged(stored(), patch({ name: 'Y' }, ['cards', 'pinHash']), overwriteClearing);
    assert.deepEqual(result.user.fingers, stored().fingers);
    assert.deepEqual(result.user.accessGroups, [3]);
  });
});
