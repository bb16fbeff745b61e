/**
 * Device calls only under a held lease (daemon/cluster/leased-transport.ts): refused before
 * the transport is called when the lease is not held, and refused again before a later
 * request of the same call (a page after a pause) once it stops being held.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRollcallError } from '../../../daemon/errors.js';
import { leasedTransport } from '../../../daemon/cluster/leased-transport.js';
import type { CallOptions, TransportInstance } from '../../../daemon/plugins/api.js';

/** A transport whose calls record what they were asked and send their "requests" through admit. */
function recordingTransport(pages: (deviceId: number) => number) {
  const sent: string[] = [];
  const transport = {
    maxMessageBytes: 4096,
    get knownPinHashScheme() {
      return 'scheme-1';
    },
    async listDevices() {
      sent.push('listDevices');
      return [];
    },
    async getUsers(deviceId: number, ids: readonly string[], options?: CallOptions) {
      for (let page = 0; page < pages(deviceId); page += 1) {
        options?.admit?.();
        sent.push(`getUsers ${deviceId} page ${page}`);
        await Promise.resolve();
      }
      return ids.map((id) => ({ id }));
    },
    async enrollUsers(deviceIds: readonly number[], _users: readonly unknown[], options?: CallOptions) {
      options?.admit?.();
      sent.push(`enrollUsers ${deviceIds.join(',')} signal=${options?.signal !== undefined}`);
      return { ok: [...deviceIds], failed: new Map() };
    },
  };
  return { sent, transport: transport as unknown as TransportInstance };
}

const lapsed = (error: unknown, ids: number[]): boolean => isRollcallError(error, 'ROLLCALL_ERR_LEASE_LOST') && JSON.stringify(error.detail?.['deviceIds']) === JSON.stringify(ids);

test('calls about held devices go through with their options; others are refused unsent', async () => {
  const held = new Set([1, 2]);
  const { sent, transport } = recordingTransport(() => 1);
  const leased = leasedTransport(transport, { holds: (id) => held.has(id) });
  const signal = new AbortController().signal;
  await leased.enrollUsers([1, 2], [], { signal });
  await assert.rejects(leased.enrollUsers([2, 3], [], { signal }), (error) => lapsed(error, [3]));
  await assert.rejects(leased.getUsers(4, ['a']), (error) => lapsed(error, [4]));
  // Not about a device: passes whatever is held; fields read through.
  await leased.listDevices();
  assert.equal(leased.knownPinHashScheme, 'scheme-1');
  assert.equal(leased.maxMessageBytes, 4096);
  assert.deepEqual(sent, ['enrollUsers 1,2 signal=true', 'listDevices']);
});

test('a lease lost during a paged call stops the pages not yet sent', async () => {
  const held = new Set([7]);
  const { sent, transport } = recordingTransport(() => 3);
  const leased = leasedTransport(transport, { holds: (id) => held.has(id) });
  const call = leased.getUsers(7, ['a', 'b']);
  // The first page went out synchronously; the process "wakes" with the lease run out.
  held.delete(7);
  await assert.rejects(call, (error) => lapsed(error, [7]));
  assert.deepEqual(sent, ['getUsers 7 page 0']);
});

test('a caller\'s own admit still runs', async () => {
  const { sent, transport } = recordingTransport(() => 1);
  const leased = leasedTransport(transport, { holds: () => true });
  const refusal = new Error('caller says no');
  await assert.rejects(leased.enrollUsers([1], [], { admit: () => { throw refusal; } }), (error) => error === refusal);
  assert.deepEqual(sent, []);
});
