import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { z } from 'zod';
import { PluginHost } from '../../../daemon/plugins/host.js';
import { loadPluginPackages, isPluginDefinition } from '../../../daemon/plugins/loader.js';
import { Metrics } from '../../../daemon/obs/metrics.js';
import type { PluginDefinition, PluginInstance, PluginKind } from '../../../daemon/plugins/api.js';
import { isRollcallError } from '../../../daemon/errors.js';

interface Trace {
  calls: string[];
}

function plugin(kind: PluginKind, name: string, trace: Trace, behaviour: Partial<Record<'create' | 'start' | 'stop' | 'health', 'throw' | 'hang'>> = {}): PluginDefinition {
  return {
    kind,
    name,
    description: 'test plugin',
    configSchema: z.object({}),
    create(ctx): PluginInstance {
      if (behaviour.create === 'throw') throw new Error(`${name} create broke`);
      trace.calls.push(`create ${name} store=${ctx.store ? 'yes' : 'no'}`);
      return {
        async start(signal) {
          trace.calls.push(`start ${name}`);
          if (behaviour.start === 'throw') throw new Error(`${name} start broke`);
          if (behaviour.start === 'hang') {
            await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          }
        },
        async stop() {
          trace.calls.push(`stop ${name}`);
          if (behaviour.stop === 'throw') throw new Error(`${name} stop broke`);
          if (behaviour.stop === 'hang') await new Promise(() => undefined);
        },
        health() {
          if (behaviour.health === 'throw') throw new Error('health broke');
          return { ok: true };
        },
      };
    },
  };
}

const fakeStore = (trace: Trace): PluginDefinition => ({
  ...plugin('storage', 'store', trace),
  create(): PluginInstance {
    trace.calls.push('create store');
    return { start: async () => void trace.calls.push('start store'), stop: async () => void trace.calls.push('stop store') };
  },
});

describe('plugin host', () => {
  let dir: string;
  let logs: string[];
  let metrics: Metrics;
  let host: PluginHost;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollcall-host-'));
    logs = [];
    const sink = new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } });
    metrics = new Metrics();
    host = new PluginHost({ logger: pino({ level: 'debug' }, sink), metrics, dataDir: dir, startTimeoutMs: 300, stopTimeoutMs: 300 });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('starts in order, gives non-storage plugins the store and a data dir, stops in reverse with the store last', async () => {
    const trace: Trace = { calls: [] };
    await host.start(fakeStore(trace), {});
    await host.start(plugin('transport', 'a', trace), {});
    await host.start(plugin('watcher', 'b', trace), {});
    assert.ok((await stat(join(dir, 'plugins', 'watcher', 'b'))).isDirectory());
    await host.stopAll();
    assert.deepEqual(trace.calls, [
      'create store', 'start store',
      'create a store=yes', 'start a',
      'create b store=yes', 'start b',
      'stop b', 'stop a', 'stop store',
    ]);
  });

  test('a plugin that throws is marked failed by kind and name and the rest carry on', async () => {
    const trace: Trace = { calls: [] };
    assert.equal(await host.start(plugin('watcher', 'broken', trace, { start: 'throw' }), {}), undefined);
    assert.equal(await host.start(plugin('watcher', 'nocreate', trace, { create: 'throw' }), {}), undefined);
    assert.ok(await host.start(plugin('watcher', 'fine', trace), {}));
    const checks = host.checks();
    assert.equal(checks['watcher/broken']?.ok, false);
    assert.match(checks['watcher/broken']?.detail ?? '', /start: broken start broke/);
    assert.equal(checks['watcher/nocreate']?.ok, false);
    assert.equal(checks['watcher/fine']?.ok, true);
    assert.ok(logs.some((l) => l.includes('"plugin":"watcher/broken"') && l.includes('"code":"ROLLCALL_ERR_PLUGIN_FAILED"') && l.includes('failed in start')));
    const text = await metrics.registry.metrics();
    assert.match(text, /rollcall_plugin_up\{kind="watcher",name="broken"\} 0/);
    assert.match(text, /rollcall_plugin_up\{kind="watcher",name="fine"\} 1/);
    // A half-started plugin gets its stop so it can release what it holds.
    assert.ok(trace.calls.includes('stop broken'));
    await host.stopAll();
  });

  test('a start that takes too long is aborted and reported', async () => {
    const trace: Trace = { calls: [] };
    assert.equal(await host.start(plugin('transport', 'slow', trace, { start: 'hang' }), {}), undefined);
    assert.match(host.checks()['transport/slow']?.detail ?? '', /did not start within 300 ms/);
    await host.stopAll();
  });

  test('a stop that hangs or throws does not keep the others from stopping', async () => {
    const trace: Trace = { calls: [] };
    await host.start(fakeStore(trace), {});
    await host.start(plugin('watcher', 'hangs', trace, { stop: 'hang' }), {});
    await host.start(plugin('watcher', 'throws', trace, { stop: 'throw' }), {});
    await host.stopAll();
    assert.deepEqual(trace.calls.filter((c) => c.startsWith('stop')), ['stop throws', 'stop hangs', 'stop store']);
    assert.ok(logs.some((l) => l.includes('stop took longer than 300 ms')));
  });

  test('a health check that throws reads as not ok', async () => {
    const trace: Trace = { calls: [] };
    await host.start(plugin('watcher', 'sick', trace, { health: 'throw' }), {});
    assert.deepEqual(host.checks()['watcher/sick'], { ok: false, detail: 'health check threw: health broke' });
    await host.stopAll();
  });

  test('lookup finds running plugins by kind and name', async () => {
    const trace: Trace = { calls: [] };
    await host.start(plugin('transport', 'gw', trace), {});
    assert.ok(host.lookup('transport', 'gw'));
    assert.equal(host.lookup('transport', 'other'), undefined);
    assert.equal(host.lookup('watcher'), undefined);
    await host.stopAll();
  });
});

describe('third-party plugin packages', () => {
  test('a rollcall-plugin-* package is loaded from node_modules', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-pkg-'));
    try {
      const pkg = join(dir, 'node_modules', 'rollcall-plugin-echo');
      await mkdir(pkg, { recursive: true });
      await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'rollcall-plugin-echo', type: 'module', exports: { '.': { import: './main.js' } } }));
      await writeFile(
        join(pkg, 'main.js'),
        `export default { kind: 'watcher', name: 'echo', description: 'x', configSchema: { safeParse: () => ({ success: true, data: {} }) }, create: () => ({ patterns: ['*.echo'] }) };\n`,
      );
      const loaded = await loadPluginPackages(['rollcall-plugin-echo'], [dir]);
      assert.equal(loaded.length, 1);
      assert.equal(loaded[0]?.name, 'echo');

      const bad = join(dir, 'node_modules', 'rollcall-plugin-bad');
      await mkdir(bad, { recursive: true });
      await writeFile(join(bad, 'package.json'), JSON.stringify({ name: 'rollcall-plugin-bad', main: 'index.cjs' }));
      await writeFile(join(bad, 'index.cjs'), 'module.exports = { kind: "nonsense" };\n');
      await assert.rejects(loadPluginPackages(['rollcall-plugin-bad'], [dir]), (e) => isRollcallError(e, 'ROLLCALL_ERR_PLUGIN_INVALID'));
      await assert.rejects(loadPluginPackages(['rollcall-plugin-missing'], [dir]), (e) => isRollcallError(e, 'ROLLCALL_ERR_PLUGIN_NOT_FOUND'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('definitions are checked for shape', () => {
    assert.equal(isPluginDefinition({ kind: 'watcher', name: 'Bad Name', create() {}, configSchema: z.object({}) }), false);
    assert.equal(isPluginDefinition({ kind: 'watcher', name: 'ok', create() {}, configSchema: z.object({}) }), true);
  });
});
