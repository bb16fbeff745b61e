/** A user as sent to the admin API → the user stored, and every problem named by its field. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyUserInput, readUserInput, userIssues } from '../../../daemon/admin/user-input.js';
import { userView } from '../../../daemon/admin/user-view.js';
import { emptyUser, type User } from '../../../daemon/model/user.js';

const stored: User = {
  ...emptyUser('17'),
  name: 'Ada',
  department: 'Eng',
  auth: { ...emptyUser('17').auth, card: 2 },
  custom: { Remarks: 'old', Shift: 'A' },
  cards: [{ type: 1, data: Buffer.alloc(32, 7).toString('base64') }],
  pinHash: Buffer.alloc(32, 9).toString('base64'),
};

function read(json: unknown) {
  const result = readUserInput(JSON.stringify(json));
  assert.ok(result.ok, JSON.stringify(result));
  return result.input;
}

describe('readUserInput', () => {
  const refusals: { name: string; json: string; fields: string[] }[] = [
    { name: 'not JSON', json: '{"id":', fields: ['user'] },
    { name: 'not an object', json: '["17"]', fields: ['user'] },
    { name: 'no id', json: '{"name":"x"}', fields: ['id'] },
    { name: 'an empty id', json: '{"id":""}', fields: ['id'] },
    { name: 'an unknown key', json: '{"id":"1","nmae":"x"}', fields: ['nmae'] },
    { name: 'a plaintext pin in the user', json: '{"id":"1","pin":"1234"}', fields: ['pin'] },
    { name: 'null for a required field', json: '{"id":"1","name":null}', fields: ['name'] },
  ];
  for (const { name, json, fields } of refusals) {
    test(`refuses ${name}, naming ${fields.join(', ')}`, () => {
      const result = readUserInput(json);
      assert.equal(result.ok, false);
      assert.deepEqual(!result.ok && result.issues.map((i) => i.field), fields);
      assert.ok(!result.ok && result.issues.every((i) => i.message.startsWith(`${i.field}: `)));
    });
  }

  test('the plaintext pin is never quoted in the issue', () => {
    const result = readUserInput('{"id":"1","pin":"98765"}');
    assert.ok(!result.ok && !result.issues[0]!.message.includes('98765'));
  });
});

describe('applyUserInput', () => {
  const cases: { name: string; input: unknown; replace?: boolean; current?: User; expect: (u: User) => void }[] = [
    {
      name: 'a new user starts empty',
      input: { id: '99', name: 'New' },
      expect: (u) => assert.deepEqual(u, { ...emptyUser('99'), name: 'New' }),
    },
    {
      name: 'fields not given are kept',
      input: { id: '17', title: 'Dr' },
      current: stored,
      expect: (u) => assert.deepEqual(u, { ...stored, title: 'Dr' }),
    },
    {
      name: 'replace empties fields not given',
      input: { id: '17', name: 'Only' },
      current: stored,
      replace: true,
      expect: (u) => assert.deepEqual(u, { ...emptyUser('17'), name: 'Only' }),
    },
    {
      name: 'null removes an optional field',
      input: { id: '17', pinHash: null, department: null },
      current: stored,
      expect: (u) => {
        assert.equal('pinHash' in u, false);
        assert.equal('department' in u, false);
        assert.equal(u.name, 'Ada');
      },
    },
    {
      name: 'auth merges key by key',
      input: { id: '17', auth: { id: 8 } },
      current: stored,
      expect: (u) => assert.deepEqual(u.auth, { ...stored.auth, id: 8 }),
    },
    {
      name: 'custom merges key by key; a null value removes that key',
      input: { id: '17', custom: { Shift: 'B', Remarks: null, Badge: 'x' } },
      current: stored,
      expect: (u) => assert.deepEqual(u.custom, { Shift: 'B', Badge: 'x' }),
    },
    {
      name: 'lists are replaced whole',
      input: { id: '17', cards: [] },
      current: stored,
      expect: (u) => assert.deepEqual(u.cards, []),
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const before = structuredClone(c.current);
      c.expect(applyUserInput(c.current, read(c.input), c.replace ?? false));
      assert.deepEqual(c.current, before, 'the stored user is not changed in place');
    });
  }
});

describe('userIssues', () => {
  const cases: { name: string; user: unknown; fields: string[] }[] = [
    { name: 'a valid user', user: { ...emptyUser('17'), name: 'Ada', email: 'ada@example.org', custom: { Remarks: 'ok' } }, fields: [] },
    { name: 'device rules (validateUser)', user: { ...emptyUser('0'), name: 'x'.repeat(49), securityLevel: 7 }, fields: ['id', 'name', 'securityLevel'] },
    { name: 'a department over 64 characters', user: { ...emptyUser('1'), department: 'd'.repeat(65) }, fields: ['department'] },
    { name: 'a department of 64 characters with accents', user: { ...emptyUser('1'), department: 'é'.repeat(64) }, fields: [] },
    { name: 'a wrong type for a server field', user: { ...emptyUser('1'), phone: 5 }, fields: ['phone'] },
    { name: 'an email that is not one', user: { ...emptyUser('1'), email: 'nobody' }, fields: ['email'] },
    { name: 'a line break in a title', user: { ...emptyUser('1'), title: 'a\nb' }, fields: ['title'] },
    { name: 'a custom value that is not text', user: { ...emptyUser('1'), custom: { Remarks: 3 } }, fields: ['custom.Remarks'] },
    { name: 'an unknown auth mode key', user: { ...emptyUser('1'), auth: { ...emptyUser('1').auth, face: 1 } }, fields: ['auth.face'] },
    { name: 'an unknown key inside a card', user: { ...emptyUser('1'), cards: [{ type: 1, data: Buffer.alloc(4).toString('base64'), pin: '1' }] }, fields: ['cards[0].pin'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(userIssues(c.user as User).map((i) => i.field).sort(), c.fields);
    });
  }

  test('no issue quotes card data or a PIN hash', () => {
    const secret = Buffer.alloc(33, 1).toString('base64');
    const issues = userIssues({ ...emptyUser('1'), cards: [{ type: 1, data: secret }], pinHash: secret });
    assert.deepEqual(issues.map((i) => i.field).sort(), ['cards[0].data', 'pinHash']);
    assert.ok(issues.every((i) => !i.message.includes(secret)));
  });
});

describe('userView', () => {
  test('credentials are counts and card types, never data', () => {
    const view = userView({ ...stored, fingers: [{ index: 0, flag: 0, templates: ['AAAA', 'BBBB'] }], photo: 'cGhvdG8=' });
    assert.deepEqual(view.credentials, { cards: [{ type: 1, typeName: 'CSN' }], fingers: 1, faces: 0, pin: true, photo: true });
    const text = JSON.stringify(view);
    for (const secret of [stored.cards[0]!.data, stored.pinHash!, 'AAAA', 'cGhvdG8=']) assert.ok(!text.includes(secret), `${secret} leaked`);
    assert.equal(view.title, null, 'absent fields are null, keys are stable');
    assert.deepEqual(view.custom, { Remarks: 'old', Shift: 'A' });
  });
});
