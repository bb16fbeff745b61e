/**
 * The wire-size measurement docs/scale.md uses: it encodes real users with the transport's
 * encoder, so a fingerprint user is bigger than a card user by at least its template bytes,
 * and every encoding carries at least the payload it is compared with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TEMPLATE_BYTES, fingerprintUser, payloadBytes, wireSize } from '../../bench/wire-size.js';

test('a fingerprint user carries its two templates per finger; each figure is at least its payload', async () => {
  const user = fingerprintUser(0, 2);
  assert.equal(user.fingers.length, 2);
  assert.equal(Buffer.from(user.fingers[0]!.templates[1]!, 'base64').length, TEMPLATE_BYTES);
  const outcome = await wireSize.run({ profile: 'quick', values: { batch: '20' }, log: () => undefined });
  assert.equal(outcome.rows.length, 9);
  for (const row of outcome.rows) assert.ok(row.measured.value >= row.baseline!.value, `${row.figure}: ${row.measured.value} < ${row.baseline!.value}`);
  const details = outcome.details as { userInfoBytes: number; payloadBytes: number }[];
  assert.ok(details[1]!.userInfoBytes - details[0]!.userInfoBytes >= 2 * TEMPLATE_BYTES, 'one finger adds at least two templates');
  assert.ok(details[2]!.userInfoBytes - details[1]!.userInfoBytes >= 2 * TEMPLATE_BYTES, 'a second finger adds two more');
  assert.equal(details[1]!.payloadBytes, payloadBytes(fingerprintUser(5, 1)));
});
