/** `rollcall users set`: flags and files → the users sent. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { anyField, userFromFlags, usersFromFile } from '../../../daemon/admin/user-flags.js';
import { csnToCardData } from '../../../daemon/model/csn.js';

describe('users set from flags', () => {
  test('each flag sets its field, and only the fields given', () => {
    const built = userFromFlags('17', { name: 'Ada', group: 'Staff', disable: true, securityLevel: '3', accessGroups: '1, 2', csn: ['123456'], custom: ['Remarks=a=b'], clearPin: true, start: '0' });
    assert.deepEqual(built, {
      ok: true,
      user: { id: '17', name: 'Ada', userGroup: 'Staff', disabled: true, securityLevel: 3, accessGroups: [1, 2], cards: [{ type: 1, data: csnToCardData(123456n) }], custom: { Remarks: 'a=b' }, pinHash: null, startTime: 0 },
    });
    assert.deepEqual(userFromFlags('17', { accessGroups: '' }), { ok: true, user: { id: '17', accessGroups: [] } });
  });

  const refusals: [string, Parameters<typeof userFromFlags>[1], RegExp][] = [
    ['contradicting flags', { disable: true, enable: true }, /contradict/],
    ['a bad security level', { securityLevel: '9' }, /--security-level/],
    ['a bad access group list', { accessGroups: '1,x' }, /--access-groups/],
    ['a CSN with a leading zero', { csn: ['0123'] }, /--csn: .*leading zero/],
    ['a bad date', { end: '31/12/2030' }, /--end: /],
    ['a custom field without =', { custom: ['Remarks'] }, /--custom: expected NAME=VALUE/],
  ];
  for (const [name, flags, pattern] of refusals) {
    test(`refuses ${name}`, () => {
      const built = userFromFlags('17', flags);
      assert.equal(built.ok, false);
      assert.match(!built.ok ? built.reason : '', pattern);
    });
  }

  test('anyField', () => {
    assert.equal(anyField({}), false);
    assert.equal(anyField({ csn: [] }), false);
    assert.equal(anyField({ name: '' }), true);
  });
});

describe('users set from a file', () => {
  test('one user or a list, in JSON or YAML; a plaintext pin goes in its own field', () => {
    assert.deepEqual(usersFromFile('{"id":"1","name":"A","pin":"0042"}'), { ok: true, items: [{ json: '{"id":"1","name":"A"}', pin: '0042' }] });
    assert.deepEqual(usersFromFile('- id: "1"\n- id: "2"\n  name: B\n'), { ok: true, items: [{ json: '{"id":"1"}', pin: '' }, { json: '{"id":"2","name":"B"}', pin: '' }] });
  });

  test('refuses an unquoted numeric pin, a scalar and an empty list', () => {
    const unquoted = usersFromFile('- id: "1"\n  pin: 0042\n');
    assert.match(!unquoted.ok ? unquoted.reason : '', /\[0\]\.pin: write the PIN as a quoted string/);
    assert.equal(usersFromFile('just text').ok, false);
    assert.equal(usersFromFile('[]').ok, false);
    assert.equal(usersFromFile('{"id": ').ok, false);
  });
});
