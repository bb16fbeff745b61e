/** What every part of the transport contract suite shares: the harness and small builders. */
import assert from 'node:assert/strict';
import { emptyUser, type User } from '../../../daemon/model/user.js';
import type { DeviceFailure, FailureReason, MultiOutcome, TransportInstance } from '../../../daemon/plugins/api.js';
import { freshSubject, type SubjectHarness } from '../fresh-subject.js';

/**
 * The devices behind the transport, as a person at them (or a test rig) can change them.
 * Nothing here goes through the transport under test.
 */
export interface DeviceSide {
  /** Devices the transport reaches, connected and empty, in their default config: at least two. */
  readonly deviceIds: readonly number[];
  /** A device ID the gateway has no entry for. */
  readonly unknownDeviceId: number;
  /**
   * A user with every credential the devices hold (cards, fingerprints in the devices'
   * default template format, a face, a PIN hash, a photo) that every device takes as it is
   * and gives back equal.
   */
  fullUser(id: string): User;
  /** The device drops off the network until `reconnect`. */
  disconnect(deviceId: number): Promise<void>;
  reconnect(deviceId: number): Promise<void>;
  /** Leaves the device room for exactly `free` more users than it holds now. */
  leaveRoomFor(deviceId: number, free: number): Promise<void>;
  /** From now on the device takes fingerprints only in a template format other than fullUser's. */
  changeTemplateFormat(deviceId: number): Promise<void>;
  /** Enrolls a user at the device itself, as its local admin would. */
  enrollAtDevice(deviceId: number, user: User): Promise<void>;
  /** The next call that reaches the device never answers. */
  stall(deviceId: number): Promise<void>;
  /**
   * From now on the device chokes on this user: a write that carries it fails on the device
   * with an error that says nothing about the device (an internal error). `wholeCall`: the
   * failure comes for the call as a whole, without per-device results.
   */
  poisonUser(deviceId: number, userId: string, wholeCall?: boolean): Promise<void>;
  /** From now on a write of more than `users` users times out on the device; smaller ones go through. */
  timeOutAbove(deviceId: number, users: number): Promise<void>;
  /** The IDs the device holds, read without the transport. */
  userIds(deviceId: number): Promise<string[]>;
}

export interface TransportUnderTest {
  /** A started transport. */
  transport: TransportInstance;
  devices: DeviceSide;
  /** Stops the transport and removes whatever the factory made. */
  cleanup: () => Promise<void>;
}

export type TransportFactory = () => Promise<TransportUnderTest>;

export type Harness = SubjectHarness<TransportUnderTest>;

export function harness(factory: TransportFactory): Harness {
  return freshSubject(factory, ({ devices }) => assert.ok(devices.deviceIds.length >= 2, 'the suite needs at least two devices'));
}

/** A user with a name and nothing else: every device takes it. */
export function plainUser(id: string, name = `User ${id}`): User {
  return { ...emptyUser(id), name };
}

/** The first two devices, for tests that need one that changes and one that does not. */
export function twoDevices({ devices }: TransportUnderTest): [number, number] {
  const [first, second] = devices.deviceIds;
  return [first!, second!];
}

/** The reason of each failed device, by device ID, sorted: what a test compares. */
export function reasons(outcome: MultiOutcome): Array<[number, FailureReason]> {
  return [...outcome.failed].map(([id, failure]): [number, FailureReason] => [id, failure.reason]).sort((a, b) => a[0] - b[0]);
}

/** Asserts a multi-device outcome: exactly these devices ok, and these failed for these reasons. */
export function assertOutcome(outcome: MultiOutcome, ok: readonly number[], failed: Array<[number, FailureReason]> = []): void {
  const describe = (failure: DeviceFailure | undefined): string => (failure ? `${failure.reason} (${failure.codeName}: ${failure.message})` : 'none');
  const detail = [...outcome.failed].map(([id, failure]) => `${id}: ${describe(failure)}`).join('; ');
  assert.deepEqual([...outcome.ok].sort((a, b) => a - b), [...ok].sort((a, b) => a - b), `ok devices (failures: ${detail || 'none'})`);
  assert.deepEqual(reasons(outcome), [...failed].sort((a, b) => a[0] - b[0]), `failed devices and reasons (${detail || 'none'})`);
  for (const failure of outcome.failed.values()) {
    assert.ok(failure.message.length > 0, 'a failure says what happened, for the log');
  }
}

export function sortedIds(users: ReadonlyArray<{ id: string }>): string[] {
  return users.map((user) => user.id).sort();
}
