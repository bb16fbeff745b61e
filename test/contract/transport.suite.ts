/**
 * The transport contract (daemon/plugins/api.ts, TransportInstance), run by every transport
 * in one line:
 *
 *   transportSuite('gsdk', async () => { ...; return { transport, devices, cleanup }; });
 *
 * The factory returns a started transport that reaches at least two connected, empty
 * devices, and a DeviceSide that arranges what happens at the devices (one drops off the
 * network, one fills up, one takes another template format). The suite asserts what the
 * sync engine relies on: outcomes per device and their reasons, never wire codes (STYLE §16).
 */
import { describe } from 'node:test';
import { callTests } from './transport/calls.js';
import { deviceTests } from './transport/devices.js';
import { eventTests } from './transport/events.js';
import { failureTests } from './transport/failures.js';
import { harness, type TransportFactory } from './transport/harness.js';
import { userTests } from './transport/users.js';

export type { DeviceSide, TransportFactory, TransportUnderTest } from './transport/harness.js';

export function transportSuite(name: string, factory: TransportFactory): void {
  describe(`transport contract: ${name}`, () => {
    const h = harness(factory);
    describe('devices', () => deviceTests(h));
    describe('users', () => userTests(h));
    describe('device failures and their reasons', () => failureTests(h));
    describe('event log', () => eventTests(h));
    describe('PIN hashes, sizes, cancellation', () => callTests(h));
  });
}
