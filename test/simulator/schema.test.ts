import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, devicesFromConfig, loadSimulatorConfig } from '../../simulator/index.js';
import { isRollcallError } from '../../daemon/errors.js';

describe('simulator config', () => {
  test('count + firstId make a fleet; defaults apply to every device', () => {
    const config = configSchema.parse({ count: 3, firstId: 2001, defaults: { templateFormat: 'ISO', maxUsers: 50 } });
    assert.equal(config.port, 4000);
    assert.equal(config.host, '127.0.0.1');
    assert.deepEqual(devicesFromConfig(config), [
      { id: 2001, templateFormat: 'ISO', maxUsers: 50 },
      { id: 2002, templateFormat: 'ISO', maxUsers: 50 },
      { id: 2003, templateFormat: 'ISO', maxUsers: 50 },
    ]);
  });

  test('listed devices override the defaults; types by name or number', () => {
    const config = configSchema.parse({
      devices: [{ id: 1, type: 'BIOSTATION_3', ipAddr: '10.0.0.9' }, { id: 2, type: 19, maxUsers: 7 }],
      defaults: { maxUsers: 100 },
    });
    assert.deepEqual(devicesFromConfig(config), [
      { id: 1, type: 35, maxUsers: 100, ipAddr: '10.0.0.9' },
      { id: 2, type: 19, maxUsers: 7 },
    ]);
  });

  const invalid: [string, unknown, string][] = [
    ['neither devices nor count', {}, ''],
    ['both devices and count', { count: 1, devices: [{ id: 1 }] }, ''],
    ['an unknown key', { count: 1, colour: 'red' }, ''],
    ['a duplicate device ID', { devices: [{ id: 1 }, { id: 1 }] }, 'devices.1.id'],
    ['device ID 0', { devices: [{ id: 0 }] }, 'devices.0.id'],
    ['an unknown template format', { devices: [{ id: 1, templateFormat: 'JPEG' }] }, 'devices.0.templateFormat'],
    ['an unknown device type', { devices: [{ id: 1, type: 'TOASTER' }] }, 'devices.0.type'],
    ['9 cards per user', { count: 1, defaults: { maxCardsPerUser: 9 } }, 'defaults.maxCardsPerUser'],
    ['a bad address', { devices: [{ id: 1, ipAddr: 'not an ip' }] }, 'devices.0.ipAddr'],
  ];
  for (const [name, input, path] of invalid) {
    test(`rejects ${name}`, () => {
      const result = configSchema.safeParse(input);
      assert.equal(result.success, false);
      if (path) assert.ok(result.error?.issues.some((i) => i.path.join('.') === path), JSON.stringify(result.error?.issues));
    });
  }

  test('loadSimulatorConfig reads YAML and reports every problem with its path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-sim-config-'));
    try {
      const good = join(dir, 'sim.yaml');
      await writeFile(good, 'port: 0\ndevices:\n  - id: 5\n    templateFormat: ANSI\n    alphanumericID: true\n');
      const config = await loadSimulatorConfig(good);
      assert.deepEqual(devicesFromConfig(config), [{ id: 5, templateFormat: 'ANSI', alphanumericID: true }]);

      const json = join(dir, 'sim.json');
      await writeFile(json, JSON.stringify({ count: 2 }));
      assert.equal(devicesFromConfig(await loadSimulatorConfig(json)).length, 2);

      const bad = join(dir, 'bad.yaml');
      await writeFile(bad, 'devices:\n  - id: -1\n  - id: 2\n    maxUsers: lots\n');
      await assert.rejects(loadSimulatorConfig(bad), (error: unknown) => {
        assert.ok(isRollcallError(error, 'ROLLCALL_ERR_CONFIG_INVALID'));
        assert.match(error.message, /devices\.0\.id/);
        assert.match(error.message, /devices\.1\.maxUsers/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
