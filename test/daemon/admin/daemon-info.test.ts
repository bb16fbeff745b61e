/** The version and plugin readiness `rollcall status` reports. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { packageVersion, pluginReadiness } from '../../../daemon/admin/daemon-info.js';
import { PluginHost } from '../../../daemon/plugins/host.js';
import { Metrics } from '../../../daemon/obs/metrics.js';
import memoryStorage from '../../../plugins/storage/memory/index.js';
import { repoRoot } from '../../helpers/daemon-process.js';

test('the version is package.json\'s', async () => {
  const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  assert.equal(packageVersion(), version);
  assert.equal(packageVersion('/'), 'unknown');
});

test('plugin readiness comes from the host, as /readyz sees it', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'rc-info-'));
  const host = new PluginHost({ logger: pino({ level: 'silent' }), metrics: new Metrics(), dataDir, startTimeoutMs: 5000, stopTimeoutMs: 5000 });
  try {
    assert.deepEqual(pluginReadiness(undefined), []);
    await host.start(memoryStorage, memoryStorage.configSchema.parse({}));
    assert.deepEqual(pluginReadiness(host), [{ id: 'storage/memory', kind: 'storage', name: 'memory', state: 'running', ok: true, detail: 'open' }]);
    await host.stopAll();
    assert.deepEqual(pluginReadiness(host).map((p) => [p.state, p.ok]), [['stopped', false]]);
  } finally {
    await host.stopAll();
    await rm(dataDir, { recursive: true, force: true });
  }
});
