/**
 * The contract every sync-mode plugin keeps (ARCHITECTURE §3): a definition of kind
 * 'sync-mode' whose instance answers targets(user, device) as a pure function, and says
 * whether device-side changes merge and whether pushing is automatic. Each mode runs
 * this suite in one line, with the answers it must give.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { PluginContext, PluginDefinition, SyncModeInstance } from '../../daemon/plugins/api.js';
import type { DeviceRecord } from '../../daemon/model/device.js';
import { emptyUser, type User } from '../../daemon/model/user.js';
import { Metrics } from '../../daemon/obs/metrics.js';

export interface SyncModeExpectations {
  acceptsDeviceChanges: boolean;
  autoPush: boolean;
  /** Whether `user` (by access groups) belongs on `device` (by the groups it serves). */
  targets(userGroups: number[], deviceGroups: number[] | undefined): boolean;
}

const context = (): PluginContext => ({
  logger: pino({ level: 'silent' }),
  metrics: new Metrics(),
  signal: new AbortController().signal,
  dataDir: '/nonexistent',
  lookup: () => undefined,
});

const groupCases: [number[], number[] | undefined][] = [
  [[], undefined],
  [[], []],
  [[], [1]],
  [[1], undefined],
  [[1], []],
  [[1], [1]],
  [[1], [2]],
  [[1, 2], [2, 3]],
  [[7], [1, 2, 3, 4, 5, 6]],
];

export function syncModeSuite(definition: PluginDefinition, expected: SyncModeExpectations): void {
  describe(`sync-mode contract: ${definition.name}`, () => {
    const mode = definition.create(context(), definition.configSchema.parse({})) as SyncModeInstance;

    test('is a sync-mode definition with a config schema that accepts an empty config', () => {
      assert.equal(definition.kind, 'sync-mode');
      assert.ok(definition.description.length > 10);
      assert.ok(definition.configSchema.safeParse({}).success);
      assert.equal(definition.configSchema.safeParse({ unknown: 1 }).success, false, 'unknown keys are refused');
    });

    test('says whether device-side changes merge and whether pushing is automatic', () => {
      assert.equal(mode.acceptsDeviceChanges, expected.acceptsDeviceChanges);
      assert.equal(mode.autoPush, expected.autoPush);
    });

    for (const [userGroups, deviceGroups] of groupCases) {
      test(`targets a user in ${JSON.stringify(userGroups)} on a device serving ${JSON.stringify(deviceGroups)}: ${expected.targets(userGroups, deviceGroups)}`, () => {
        const user: User = { ...emptyUser('1'), accessGroups: userGroups };
        const device: DeviceRecord = { id: 1, source: 'config', lastEventId: 0, ...(deviceGroups ? { accessGroups: deviceGroups } : {}) };
        assert.equal(mode.targets(user, device), expected.targets(userGroups, deviceGroups));
      });
    }

    test('targets is pure: it changes neither argument and answers the same twice', () => {
      const user: User = { ...emptyUser('9'), accessGroups: [1, 2] };
      const device: DeviceRecord = { id: 2, source: 'config', lastEventId: 0, accessGroups: [2] };
      const before = JSON.stringify([user, device]);
      const first = mode.targets(user, device);
      assert.equal(mode.targets(user, device), first);
      assert.equal(JSON.stringify([user, device]), before);
    });
  });
}
