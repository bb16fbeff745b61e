/**
 * Reliability suite 4c, bad admin requests: fuzzed SetUser, DeleteUser, GetUser and
 * ListUsers requests (invalid fields, wrong types, unknown users, oversized values) through
 * the real client over the admin socket, against the real server, store, sync engine and
 * simulator. Pass: every refusal is a clear gRPC error with a stable ROLLCALL_ERR_* code and
 * a message; the server never crashes and keeps answering; a refused request changes
 * nothing stored; no PIN of any request is stored in plaintext; memory stays bounded.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AdminCallError, AdminConnection } from '../../daemon/admin/client.js';
import { makeUser } from '../helpers/sync-harness.js';
import { AdminHarness } from '../daemon/admin/admin-harness.js';

const CASES = Number(process.env.ROLLCALL_ADMIN_FUZZ_CASES ?? 400);
const SEED = 20261124;
/** A refusal is immediate; an answer that never comes is a failure, not a wait. */
const DEADLINE = { deadlineMs: 5000 };
const REFUSAL_CODES = new Set(['INVALID_ARGUMENT', 'NOT_FOUND', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'OUT_OF_RANGE']);

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\u202e', '../../etc/passwd', '"; DROP TABLE users; --', 'x'.repeat(200), 'é'.repeat(40), '\ud800', '__proto__', 'constructor'),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(null, true, false, [], {}, Number.MAX_SAFE_INTEGER, -1, 1e309),
  fc.array(fc.oneof(fc.integer(), hostileString), { maxLength: 4 }),
  fc.dictionary(hostileString, fc.oneof(fc.integer(), hostileString), { maxKeys: 3 }),
);
const userFields = ['id', 'name', 'disabled', 'startTime', 'endTime', 'auth', 'securityLevel', 'cards', 'fingers', 'faces', 'accessGroups', 'jobCodes', 'pinHash', 'photo', 'department', 'title', 'phone', 'email', 'custom', 'bogus'];
/** A user JSON with some fields wrong: a plausible ID (often unknown), then random values. */
const userJson = fc
  .record({
    id: fc.oneof(fc.integer({ min: 1, max: 999 }).map(String), hostileString, fc.constantFrom(undefined, 5, null)),
    fields: fc.dictionary(fc.constantFrom(...userFields), hostileValue, { maxKeys: 4 }),
    raw: fc.integer({ min: 0, max: 9 }),
  })
  .map(({ id, fields, raw }) => (raw === 0 ? JSON.stringify(fields).slice(0, -1) : raw === 1 ? '[1,2,3]' : JSON.stringify({ ...fields, id })));
const pin = fc.oneof(fc.constant(''), fc.string({ maxLength: 20 }), fc.integer({ min: 0, max: 99_999_999 }).map(String), fc.constantFrom('123', '12345678901234567', '12a4', '８８８８'));

const request = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), users: fc.array(fc.record({ userJson, pin }), { minLength: 1, maxLength: 3 }), replace: fc.boolean() }),
  fc.record({ kind: fc.constant('delete' as const), ids: fc.array(fc.oneof(fc.integer({ min: 5000, max: 9999 }).map(String), hostileString), { minLength: 0, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('get' as const), id: fc.oneof(fc.integer({ min: 5000, max: 9999 }).map(String), hostileString) }),
  fc.record({ kind: fc.constant('list' as const), after: hostileString, limit: fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.constantFrom(4_294_967_295)) }),
);

describe('reliability: bad admin requests', () => {
  let h: AdminHarness;
  let c: AdminConnection;

  before(async () => {
    h = await AdminHarness.start();
    c = await AdminConnection.open(h.socketPath);
    await h.sync.put(...Array.from({ length: 20 }, (_, i) => makeUser(String(i + 1))));
  });

  after(async () => {
    c?.close();
    await h?.stop();
  });

  test(`${CASES} fuzzed requests: clear refusals, no crash, refused requests change nothing`, { timeout: 300_000 }, async () => {
    const figures = { cases: 0, refused: 0, accepted: 0, byCode: new Map<string, number>() };
    const pins = new Set<string>();
    const heapBefore = process.memoryUsage().heapUsed;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        figures.cases++;
        const seq = h.store.currentSeq();
        try {
          if (r.kind === 'set') {
            for (const u of r.users) if (/^[0-9]{4,16}$/.test(u.pin)) pins.add(u.pin);
            await c.unary('SetUser', c.client.setUser, { users: r.users.map((u) => ({ userJson: u.userJson, pin: u.pin })), replace: r.replace }, DEADLINE);
          } else if (r.kind === 'delete') {
            await c.unary('DeleteUser', c.client.deleteUser, { ids: r.ids }, DEADLINE);
          } else if (r.kind === 'get') {
            await c.unary('GetUser', c.client.getUser, { id: r.id }, DEADLINE);
          } else {
            await c.unary('ListUsers', c.client.listUsers, { after: r.after, limit: r.limit, foreignPinHash: false }, DEADLINE);
          }
          figures.accepted++;
        } catch (error) {
          assert.ok(error instanceof AdminCallError, `not a refusal: ${error instanceof Error ? error.stack : String(error)}`);
          assert.ok(REFUSAL_CODES.has(error.grpcCodeName), `${r.kind}: ${error.grpcCodeName}: ${error.message}`);
          assert.ok(error.message.length > 0);
          figures.refused++;
          figures.byCode.set(error.grpcCodeName, (figures.byCode.get(error.grpcCodeName) ?? 0) + 1);
          assert.equal(h.store.currentSeq(), seq, `a refused ${r.kind} changed the store: ${JSON.stringify(r).slice(0, 300)}`);
        }
      }),
      { numRuns: CASES, seed: SEED, endOnFailure: true },
    );
    // Still answering, and no plaintext PIN of any request is in a stored user.
    assert.equal((await c.unary('Status', c.client.status, {})).daemon?.state, 'running');
    let scanned = 0;
    for await (const user of h.store.scanUsers()) {
      const text = JSON.stringify(user);
      for (const p of pins) if (p.length >= 6) assert.ok(!text.includes(`"${p}"`), `user ${user.id} holds a request's PIN in plaintext`);
      scanned++;
    }
    const growthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    console.log(
      `# bad admin requests: ${figures.cases} fuzzed requests (seed ${SEED}): ${figures.refused} refused (${[...figures.byCode].map(([k, v]) => `${k} ${v}`).join(', ')}), ` +
        `${figures.accepted} accepted; ${scanned} users scanned for ${pins.size} planted PINs; heap growth ${growthMb.toFixed(1)} MiB`,
    );
    assert.ok(growthMb < 256);
  });

  // Found by the fuzz above: the refusal names the ID, and grpc-js percent-encodes the status
  // message with encodeURI, which throws on a lone surrogate; the answer is never sent.
  test('a user ID that is not well-formed UTF-16 is refused with an answer', async () => {
    const seq = h.store.currentSeq();
    for (const [id, pin] of [['\ud800', ''], ['\ud800', '123'], ['a\udc00b', '12']]) {
      await assert.rejects(c.unary('SetUser', c.client.setUser, { users: [{ userJson: JSON.stringify({ id }), pin: pin! }], replace: false }, DEADLINE), (error: unknown) => {
        assert.ok(error instanceof AdminCallError, String(error));
        assert.ok(REFUSAL_CODES.has(error.grpcCodeName), `${error.grpcCodeName}: ${error.message}`);
        return true;
      });
      await assert.rejects(c.unary('GetUser', c.client.getUser, { id: id! }, DEADLINE), (error: unknown) => error instanceof AdminCallError && REFUSAL_CODES.has(error.grpcCodeName));
    }
    assert.equal(h.store.currentSeq(), seq);
  });

  test('oversized requests are refused and the server goes on', async () => {
    const seq = h.store.currentSeq();
    const cases = [
      { users: [{ userJson: JSON.stringify({ id: '900', name: 'x'.repeat(5 * 2 ** 20) }), pin: '' }], replace: false },
      { users: Array.from({ length: 10_001 }, (_, i) => ({ userJson: JSON.stringify({ id: String(10_000 + i) }), pin: '' })), replace: false },
    ];
    for (const request of cases) {
      await assert.rejects(c.unary('SetUser', c.client.setUser, request), (error: unknown) => error instanceof AdminCallError && REFUSAL_CODES.has(error.grpcCodeName));
    }
    await assert.rejects(c.unary('DeleteUser', c.client.deleteUser, { ids: Array.from({ length: 200_000 }, (_, i) => `id-${i}`) }), (error: unknown) => error instanceof AdminCallError && REFUSAL_CODES.has(error.grpcCodeName));
    assert.equal(h.store.currentSeq(), seq, 'nothing stored changed');
    assert.equal((await c.unary('Status', c.client.status, {})).daemon?.state, 'running');
  });
});
