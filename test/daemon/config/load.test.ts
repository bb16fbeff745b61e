import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { readConfig, validateConfig, loadConfig } from '../../../daemon/config/load.js';
import { buildConfigSchema, configJsonSchema } from '../../../daemon/config/schema.js';
import { diffConfig } from '../../../daemon/config/diff.js';
import type { PluginDefinition } from '../../../daemon/plugins/api.js';
import { isRollcallError } from '../../../daemon/errors.js';

// Test plugins with real schemas: one strict, one deliberately not strict, one with a path.
const strictPlugin: PluginDefinition = {
  kind: 'watcher',
  name: 'strict',
  description: 'test',
  configSchema: z.strictObject({
    batch: z.number().int().positive().default(10),
    folder: z.string().default('spool').meta({ path: true }),
    nested: z.strictObject({ depth: z.number().default(1).meta({ requiresRestart: true }) }).prefault({}),
  }),
  create: () => ({}),
};
const loosePlugin: PluginDefinition = {
  kind: 'storage',
  name: 'loose',
  description: 'test',
  configSchema: z.object({ size: z.number().default(1) }),
  create: () => ({}) as never,
};
const topPlugin: PluginDefinition & { configKey: string } = {
  kind: 'transport',
  name: 'top',
  configKey: 'gateway',
  description: 'test',
  configSchema: z.object({ address: z.string().default('embedded').meta({ requiresRestart: true }) }),
  create: () => ({}),
};
const definitions = [strictPlugin, loosePlugin, topPlugin];

async function withFile(name: string, text: string, fn: (path: string, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-config-'));
  try {
    const path = join(dir, name);
    await writeFile(path, text);
    await fn(path, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('config validation', () => {
  test('an empty config takes every default, plugins included', () => {
    const result = validateConfig({ filepath: undefined, baseDir: '/srv/site', raw: {} }, definitions);
    assert.ok(result.ok);
    assert.equal(result.config.http.listen, '127.0.0.1:9464');
    assert.equal(result.config.log.level, 'info');
    assert.equal(result.config.dataDir, '/srv/site/var/lib/rollcall');
    assert.deepEqual(result.config.watchers.strict, { batch: 10, folder: '/srv/site/spool', nested: { depth: 1 } });
    assert.deepEqual(result.config.gateway, { address: 'embedded' });
    assert.deepEqual((result.config.storage as Record<string, unknown>).loose, { size: 1 });
  });

  test('every problem is reported at once, each with its path', () => {
    const raw = {
      log: { level: 'loud' },
      http: { listen: 'nowhere' },
      watchers: { strict: { batch: -1, nested: { depth: 'deep', extra: true } } },
      storage: { loose: { size: 2, colour: 'red' } },
      gateway: { adress: 'typo' },
      unknownTop: 1,
    };
    const result = validateConfig({ filepath: 'x.yaml', baseDir: '/', raw }, definitions);
    assert.equal(result.ok, false);
    if (result.ok) return;
    const paths = result.issues.map((i) => i.path).sort();
    assert.deepEqual(paths, [
      'gateway.adress',
      'http.listen',
      'log.level',
      'storage.loose.colour',
      'unknownTop',
      'watchers.strict.batch',
      'watchers.strict.nested.depth',
      'watchers.strict.nested.extra',
    ]);
    const unknown = result.issues.filter((i) => i.message === 'unknown key').map((i) => i.path).sort();
    assert.deepEqual(unknown, ['gateway.adress', 'storage.loose.colour', 'unknownTop', 'watchers.strict.nested.extra']);
  });

  test('keys named like Object.prototype members are unknown keys, not a crash', () => {
    const raw = JSON.parse('{"toString": 1, "log": {"hasOwnProperty": 2}, "sync": {"constructor": 1}, "__proto__": {"polluted": true}}');
    const result = validateConfig({ filepath: 'x.yaml', baseDir: '/', raw }, definitions);
    assert.equal(result.ok, false);
    if (result.ok) return;
    const paths = result.issues.map((i) => i.path);
    for (const p of ['toString', 'log.hasOwnProperty', 'sync.constructor', '__proto__']) assert.ok(paths.includes(p), `${p} in ${JSON.stringify(paths)}`);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('a config that is not a mapping is refused', () => {
    const result = validateConfig({ filepath: 'x.yaml', baseDir: '/', raw: ['a'] }, definitions);
    assert.equal(result.ok, false);
  });

  test('YAML is read from --config and relative paths are read from its folder', async () => {
    await withFile('site.yaml', 'dataDir: state\nwatchers:\n  strict:\n    folder: /abs/spool\n', async (path, dir) => {
      const loaded = await loadConfig({ configPath: path }, definitions);
      assert.equal(loaded.filepath, path);
      assert.equal(loaded.config.dataDir, join(dir, 'state'));
      assert.equal((loaded.config.watchers.strict as { folder: string }).folder, '/abs/spool');
    });
  });

  test('the search finds rollcall.yaml from the working directory', async () => {
    await withFile('rollcall.yaml', 'log:\n  level: debug\n', async (path, dir) => {
      const source = await readConfig({ cwd: dir });
      assert.equal(source.filepath, path);
      const result = validateConfig(source, definitions);
      assert.ok(result.ok);
      assert.equal(result.config.log.level, 'debug');
    });
  });

  test('a missing --config file and broken YAML are config errors', async () => {
    await assert.rejects(readConfig({ configPath: '/nonexistent/rollcall.yaml' }), (e) => isRollcallError(e, 'ROLLCALL_ERR_CONFIG_NOT_FOUND'));
    await withFile('bad.yaml', 'log: [unclosed\n', async (path) => {
      await assert.rejects(readConfig({ configPath: path }), (e) => isRollcallError(e, 'ROLLCALL_ERR_CONFIG_INVALID'));
    });
  });

  // Each file would leave a marker beside itself if it were ever run.
  const codeConfig = (marker: string): string => `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran'); module.exports = { log: { level: 'debug' } };`;
  const esmConfig = (marker: string): string => `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'ran'); export default { log: { level: 'debug' } };`;

  for (const [name, body] of [['site.js', codeConfig], ['site.cjs', codeConfig], ['site.mjs', esmConfig], ['site.ts', esmConfig]] as const) {
    test(`a --config ending ${name.slice(4)} is refused with a clear error and never runs`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'rollcall-config-'));
      try {
        const marker = join(dir, 'ran');
        const path = join(dir, name);
        await writeFile(path, body(marker));
        await assert.rejects(readConfig({ configPath: path }), (error) => {
          assert.ok(isRollcallError(error, 'ROLLCALL_ERR_CONFIG_INVALID'));
          assert.match(error.message, /YAML .* or JSON .*never runs code/);
          return true;
        });
        await assert.rejects(access(marker), { code: 'ENOENT' });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  test('a code file in the working directory is never run by the search (cosmiconfig meta config, code search places)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-config-'));
    try {
      await mkdir(join(dir, '.config'));
      for (const name of ['.config/config.mjs', '.config/config.js', 'rollcall.config.js', '.rollcallrc.js', '.rollcallrc.cjs', '.rollcallrc.mjs']) {
        await writeFile(join(dir, name), esmConfig(join(dir, `ran-${name.replace(/\W/g, '_')}`)));
      }
      await writeFile(join(dir, 'package.json'), JSON.stringify({ cosmiconfig: { searchPlaces: ['rollcall.config.js'] }, rollcall: { log: { level: 'debug' } } }));
      const source = await readConfig({ cwd: dir });
      assert.equal(source.filepath, undefined);
      assert.deepEqual(source.raw, {});
      assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('ran-')), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('JSON, YAML without an extension, and an empty file are read; an empty search place is passed over', async () => {
    await withFile('site.json', '{"log":{"level":"warn"}}', async (path) => {
      assert.deepEqual((await readConfig({ configPath: path })).raw, { log: { level: 'warn' } });
    });
    await withFile('rollcall-config', 'log:\n  level: error\n', async (path) => {
      assert.deepEqual((await readConfig({ configPath: path })).raw, { log: { level: 'error' } });
    });
    await withFile('empty.yaml', '', async (path) => {
      assert.deepEqual((await readConfig({ configPath: path })).raw, {});
    });
    await withFile('rollcall.yaml', '  \n', async (_path, dir) => {
      await writeFile(join(dir, '.rollcallrc.json'), '{"log":{"level":"warn"}}');
      const source = await readConfig({ cwd: dir });
      assert.equal(source.filepath, join(dir, '.rollcallrc.json'));
    });
  });

  test('loadConfig throws one error naming every path', async () => {
    await withFile('bad.yaml', 'log:\n  level: loud\nhttp:\n  listen: x\nnope: 1\n', async (path) => {
      await assert.rejects(loadConfig({ configPath: path }, definitions), (error) => {
        assert.ok(isRollcallError(error, 'ROLLCALL_ERR_CONFIG_INVALID'));
        for (const p of ['log.level', 'http.listen', 'nope']) assert.match(error.message, new RegExp(`\\b${p.replace('.', '\\.')}:`));
        return true;
      });
    });
  });
});

describe('config schema', () => {
  test('two plugins cannot claim the same key', () => {
    assert.throws(() => buildConfigSchema([strictPlugin, strictPlugin]), /already taken/);
  });

  test('the JSON Schema for editors describes core and plugin keys and forbids unknown keys', () => {
    const json = configJsonSchema(definitions) as { properties: Record<string, any>; additionalProperties: boolean };
    assert.equal(json.additionalProperties, false);
    assert.ok(json.properties.http.properties.listen.description);
    assert.equal(json.properties.dataDir.requiresRestart, true);
    assert.ok(json.properties.watchers.properties.strict.properties.batch);
    assert.ok(json.properties.gateway.properties.address);
  });
});

describe('reload diff', () => {
  const schema = buildConfigSchema(definitions);
  const parse = (raw: unknown) => {
    const r = validateConfig({ filepath: undefined, baseDir: '/', raw }, definitions);
    assert.ok(r.ok);
    return r.config;
  };

  test('changed keys are listed with whether they need a restart', () => {
    const before = parse({});
    const after = parse({ log: { level: 'debug' }, http: { listen: '127.0.0.1:9500' }, gateway: { address: '10.0.0.1:4000' }, watchers: { strict: { batch: 5, nested: { depth: 2 } } } });
    const changes = diffConfig(schema, before, after).sort((a, b) => a.path.localeCompare(b.path));
    assert.deepEqual(changes, [
      { path: 'gateway.address', requiresRestart: true },
      { path: 'http.listen', requiresRestart: true },
      { path: 'log.level', requiresRestart: false },
      { path: 'watchers.strict.batch', requiresRestart: false },
      { path: 'watchers.strict.nested.depth', requiresRestart: true },
    ]);
  });

  test('an identical config changes nothing', () => {
    assert.deepEqual(diffConfig(schema, parse({ log: { level: 'warn' } }), parse({ log: { level: 'warn' } })), []);
  });
});
