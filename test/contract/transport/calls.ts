/** What every call offers: PIN hashes that are not the PIN, sizes for batching, and cancellation. */
import assert from 'node:assert/strict';
import { assertOutcome, plainUser, twoDevices, type Harness } from './harness.js';

const PIN = '482915';

export function callTests({ it }: Harness): void {
  it('hashPin gives the device\'s 32-byte hash in base64: the same for the same PIN, never the PIN', async ({ transport }) => {
    const hash = await transport.hashPin(PIN);
    const bytes = Buffer.from(hash, 'base64');
    assert.equal(bytes.length, 32);
    assert.equal(bytes.toString('base64'), hash, 'canonical base64');
    assert.equal(await transport.hashPin(PIN), hash);
    assert.notEqual(await transport.hashPin('482916'), hash);
    assert.ok(!hash.includes(PIN), 'the PIN does not show in the hash');
    assert.ok(!bytes.includes(Buffer.from(PIN, 'utf8')), 'the PIN is not inside the hash');
    assert.notEqual(hash, Buffer.from(PIN, 'utf8').toString('base64'));
  });

  it('a PIN hash from hashPin is one the devices take and give back', async (subject) => {
    const { transport } = subject;
    const [device] = twoDevices(subject);
    const user = { ...plainUser('161'), pinHash: await transport.hashPin(PIN) };
    assertOutcome(await transport.enrollUsers([device], [user]), [device]);
    assert.equal((await transport.getUsers(device, ['161']))[0]?.pinHash, user.pinHash);
  });

  it('pinHashScheme names the gateway\'s hash scheme: stable, and stamped on the PIN hashes read back from its devices', async (subject) => {
    const { transport } = subject;
    const scheme = await transport.pinHashScheme();
    assert.match(scheme, /^[0-9a-z-]{1,64}$/);
    assert.equal(await transport.pinHashScheme(), scheme);
    assert.equal(transport.knownPinHashScheme, scheme);
    const [device] = twoDevices(subject);
    const user = { ...plainUser('181'), pinHash: await transport.hashPin(PIN) };
    assertOutcome(await transport.enrollUsers([device], [user, plainUser('182')]), [device]);
    const [withPin, withoutPin] = await transport.getUsers(device, ['181', '182']);
    assert.equal(withPin?.pinHashScheme, scheme);
    assert.equal(withoutPin?.pinHashScheme, undefined);
  });

  it('a PIN hash another gateway\'s scheme made is left off; one of this scheme or of unknown origin is sent', async (subject) => {
    const { transport } = subject;
    const scheme = await transport.pinHashScheme();
    const [device] = twoDevices(subject);
    const pinHash = await transport.hashPin(PIN);
    const users = [
      { ...plainUser('191'), pinHash, pinHashScheme: `${scheme}-elsewhere` },
      { ...plainUser('192'), pinHash, pinHashScheme: scheme },
      { ...plainUser('193'), pinHash },
    ];
    assertOutcome(await transport.enrollUsers([device], users), [device]);
    const back = await transport.getUsers(device, ['191', '192', '193']);
    assert.deepEqual(back.map((u) => [u.id, u.pinHash]), [['191', undefined], ['192', pinHash], ['193', pinHash]]);
    assert.equal(users[0]!.pinHash, pinHash, 'the caller\'s user is not changed');
  });

  it('encodedSize grows with what a user carries, and a full user fits the message limit', async ({ transport, devices }) => {
    assert.ok(Number.isInteger(transport.maxMessageBytes) && transport.maxMessageBytes > 0);
    const full = devices.fullUser('171');
    const steps = [
      plainUser('171', ''),
      plainUser('171'),
      { ...plainUser('171'), cards: full.cards },
      { ...plainUser('171'), cards: full.cards, fingers: full.fingers },
      { ...plainUser('171'), cards: full.cards, fingers: full.fingers, faces: full.faces },
      full,
    ];
    const sizes = steps.map((user) => transport.encodedSize(user));
    assert.ok(sizes.every((size, i) => i === 0 || size > sizes[i - 1]!), `sizes grow: ${sizes.join(' < ')}`);
    assert.ok(sizes[0]! > 0);
    assert.ok(sizes[sizes.length - 1]! < transport.maxMessageBytes);
  });

  it('a call with an already aborted signal rejects and changes nothing', async (subject) => {
    const { transport, devices } = subject;
    const [device] = twoDevices(subject);
    const signal = AbortSignal.abort();
    await assert.rejects(transport.listDevices({ signal }));
    await assert.rejects(transport.enrollUsers([device], [plainUser('181')], { signal }));
    await assert.rejects(transport.readEvents(device, 0, 0, { signal }));
    assert.deepEqual(await devices.userIds(device), []);
    assert.ok((await transport.listDevices()).length > 0, 'the transport still works');
  });

  it('aborting a call that waits on a device rejects it at once, long before its deadline', async (subject) => {
    const { transport, devices } = subject;
    const [device] = twoDevices(subject);
    await devices.stall(device);
    const abort = new AbortController();
    const pending = transport.listUsers(device, { signal: abort.signal, deadlineMs: 30_000 });
    setTimeout(() => abort.abort(), 50);
    const started = performance.now();
    await assert.rejects(pending);
    assert.ok(performance.now() - started < 10_000, 'rejected on the abort, not the deadline');
    assertOutcome(await transport.enrollUsers([device], [plainUser('191')]), [device]);
  });

  it('a multi-device call past its deadline never reports the device that did not answer as ok', async (subject) => {
    const { transport, devices } = subject;
    const [device] = twoDevices(subject);
    await devices.stall(device);
    const started = performance.now();
    // Rejecting whole (no device known to have done it) and failing that device alone as `unavailable` both keep the contract.
    const outcome = await transport.enrollUsers(devices.deviceIds, [plainUser('201')], { deadlineMs: 300 }).catch(() => undefined);
    assert.ok(performance.now() - started >= 290, 'not before the deadline');
    if (outcome) assert.equal(outcome.failed.get(device)?.reason, 'unavailable');
  });
}
