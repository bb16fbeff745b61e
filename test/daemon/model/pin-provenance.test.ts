import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { pinHashFits, pinHashIsForeign, pinHashSchemeId, withFittingPinHash } from '../../../daemon/model/pin-provenance.js';
import { emptyUser, type User } from '../../../daemon/model/user.js';
import { validateUser } from '../../../daemon/model/validate.js';

const HASH = Buffer.alloc(32, 3).toString('base64');
const withPin = (pinHashScheme?: string): User => ({ ...emptyUser('1'), name: 'P', pinHash: HASH, ...(pinHashScheme === undefined ? {} : { pinHashScheme }) });

describe('pin-provenance', () => {
  test('a scheme id is the first 16 hex digits of the SHA-256 of the probe hash: equal for equal hashes, apart for others', () => {
    const probe = Buffer.alloc(32, 9);
    assert.equal(pinHashSchemeId(probe), createHash('sha256').update(probe).digest('hex').slice(0, 16));
    assert.equal(pinHashSchemeId(Buffer.from(probe)), pinHashSchemeId(probe));
    assert.notEqual(pinHashSchemeId(Buffer.alloc(32, 8)), pinHashSchemeId(probe));
    assert.match(pinHashSchemeId(probe), /^[0-9a-f]{16}$/);
  });

  const cases: { what: string; user: User; scheme: string | undefined; foreign: boolean }[] = [
    { what: 'a hash of the current scheme', user: withPin('aaaa'), scheme: 'aaaa', foreign: false },
    { what: 'a hash of another scheme', user: withPin('bbbb'), scheme: 'aaaa', foreign: true },
    { what: 'a hash of unknown origin', user: withPin(), scheme: 'aaaa', foreign: false },
    { what: 'no hash, a stale scheme', user: { ...emptyUser('1'), pinHashScheme: 'bbbb' }, scheme: 'aaaa', foreign: false },
    { what: 'an empty hash', user: { ...withPin('bbbb'), pinHash: '' }, scheme: 'aaaa', foreign: false },
    { what: 'the current scheme not known', user: withPin('bbbb'), scheme: undefined, foreign: false },
  ];
  for (const c of cases) {
    test(`${c.what}: ${c.foreign ? 'foreign, left off' : 'fits, sent'}`, () => {
      assert.equal(pinHashIsForeign(c.user, c.scheme), c.foreign);
      assert.equal(pinHashFits(c.user, c.scheme), !c.foreign);
      const sent = withFittingPinHash(c.user, c.scheme);
      if (c.foreign) {
        assert.notEqual(sent, c.user);
        assert.equal(sent.pinHash, undefined);
        assert.equal(c.user.pinHash, HASH, 'the stored user is not changed');
        assert.deepEqual({ ...sent, pinHash: HASH }, c.user);
      } else {
        assert.equal(sent, c.user);
      }
    });
  }

  test('validation takes a scheme id and names a bad one', () => {
    assert.deepEqual(validateUser(withPin('0123456789abcdef')), []);
    const issues = validateUser({ ...withPin(), pinHashScheme: 'Not A Scheme!' });
    assert.deepEqual(issues.map((i) => i.field), ['pinHashScheme']);
  });
});
