import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RollcallError } from '../../../../daemon/errors.js';
import { emptyUser } from '../../../../daemon/model/user.js';
import gsdk from '../../../../plugins/transports/gsdk/index.js';
import { configSchema } from '../../../../plugins/transports/gsdk/schema.js';
import { testContext } from './fixtures.js';

describe('embedded gateway', () => {
  test('the default config starts the simulator on loopback and talks to it over gRPC', async () => {
    const t = await testContext();
    const transport = gsdk.create(t.ctx, configSchema.parse({}));
    try {
      assert.equal(transport.address, undefined, 'create must not start anything');
      await transport.start(t.abort.signal);
      assert.match(transport.address ?? '', /^127\.0\.0\.1:\d+$/);
      await transport.ready();
      assert.deepEqual((await transport.listDevices()).map((device) => device.id).sort(), [1001, 1002, 1003]);
      const result = await transport.enrollUsers([1001, 1002, 1003], [emptyUser('1')]);
      assert.deepEqual(result.ok, [1001, 1002, 1003]);
      assert.deepEqual((await transport.listUsers(1003)).map((hdr) => hdr.id), ['1']);
      assert.equal(transport.health().ok, true);
    } finally {
      await transport.stop();
      await t.dispose();
    }
    // Stopped: no channel, no simulator; a second stop is harmless.
    await transport.stop();
    assert.equal(transport.address, undefined);
    await assert.rejects(transport.listDevices(), (e: unknown) => e instanceof RollcallError && e.code === 'ROLLCALL_ERR_GATEWAY_UNAVAILABLE');
  });

  test('configured devices, with names for types and formats', async () => {
    const t = await testContext();
    const transport = gsdk.create(
      t.ctx,
      configSchema.parse({ embedded: { devices: [{ id: 7, type: 'BIOSTATION_3', maxUsers: 10, alphanumericID: true }] } }),
    );
    try {
      await transport.start(t.abort.signal);
      // What a BIOSTATION_3 holds is the simulator's model table (device-views and the contract suite test holds).
      const { holds, ...profile } = await transport.deviceProfile(7);
      assert.deepEqual(profile, { type: 35, maxUsers: 10, alphanumericIdSupported: true, alphanumericIdEnabled: true });
      assert.ok(holds !== undefined);
    } finally {
      await transport.stop();
      await t.dispose();
    }
  });

  test('a start that is aborted stops what it started', async () => {
    const t = await testContext();
    const transport = gsdk.create(t.ctx, configSchema.parse({}));
    const abort = new AbortController();
    const starting = transport.start(abort.signal);
    abort.abort(new Error('stopping early'));
    await assert.rejects(starting, /stopping early/);
    assert.equal(transport.address, undefined);
    assert.equal(transport.health().ok, false);
    await transport.stop();
    await t.dispose();
  });

  test('tls is refused with the embedded simulator', () => {
    const parsed = configSchema.safeParse({ tls: { caFile: '/etc/ca.crt' } });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues[0]?.path, ['tls']);
  });
});
