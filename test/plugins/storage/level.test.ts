import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Level } from 'level';
import { pino } from 'pino';
import { isRollcallError } from '../../../daemon/errors.js';
import { emptyUser } from '../../../daemon/model/user.js';
import { Metrics } from '../../../daemon/obs/metrics.js';
import type { PluginContext } from '../../../daemon/plugins/api.js';
import { tempLevelStore } from '../../helpers/stores.js';
import levelStorage from '../../../plugins/storage/level/index.js';
import { LevelStore } from '../../../plugins/storage/level/level-store.js';
import { configSchema } from '../../../plugins/storage/level/schema.js';
import { storeSuite } from '../../contract/store.suite.js';

storeSuite('level', async () => {
  const temp = await tempLevelStore();
  return { store: temp.store, reopen: () => temp.reopen(), cleanup: () => temp.cleanup() };
});

const silent = pino({ level: 'silent' });

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-level-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function context(dataDir: string, signal: AbortSignal): PluginContext {
  return { logger: silent, metrics: new Metrics(), signal, dataDir, lookup: () => undefined };
}

test('the level plugin schema: defaults, restart marks, unknown keys refused', () => {
  const config = levelStorage.configSchema.parse({});
  assert.deepEqual(config, { cacheSize: 32 * 1024 * 1024, writeBufferSize: 8 * 1024 * 1024, sync: false });
  assert.equal(levelStorage.configSchema.safeParse({ cacheSize: -1 }).success, false);
  assert.equal(levelStorage.configSchema.safeParse({ path: '' }).success, false);
  assert.equal(levelStorage.configSchema.safeParse({ compression: true }).success, false);
  assert.equal(levelStorage.configSchema, configSchema);
  for (const [key, schema] of Object.entries(configSchema.shape)) {
    assert.equal(schema.meta()?.['requiresRestart'], true, `${key} requires a restart`);
    assert.ok(schema.description, `${key} is described`);
  }
});

test('create() touches nothing; start() opens in <dataDir>/leveldb; stop() closes', async () => {
  await withTempDir(async (dataDir) => {
    const controller = new AbortController();
    const store = levelStorage.create(context(dataDir, controller.signal), levelStorage.configSchema.parse({}));
    assert.equal(existsSync(join(dataDir, 'leveldb')), false);
    assert.equal(store.health().ok, false);
    await store.start(controller.signal);
    assert.equal(existsSync(join(dataDir, 'leveldb', 'CURRENT')), true);
    assert.equal(store.health().ok, true);
    await store.commit([{ type: 'putUser', user: emptyUser('a'), origin: { kind: 'server' } }]);
    await store.stop();
    assert.equal(store.health().ok, false);
  });
});

test('config.path overrides the data directory, and sync commits are readable after reopen', async () => {
  await withTempDir(async (dataDir) => {
    const path = join(dataDir, 'elsewhere');
    const config = levelStorage.configSchema.parse({ path, sync: true });
    const controller = new AbortController();
    const store = levelStorage.create(context(join(dataDir, 'unused'), controller.signal), config);
    await store.start();
    await store.commit([{ type: 'deleteUser', userId: 'x', origin: { kind: 'admin' } }]);
    await store.stop();
    const again = levelStorage.create(context(join(dataDir, 'unused'), controller.signal), config);
    await again.start();
    assert.equal(again.currentSeq(), 1);
    await again.stop();
    assert.equal(existsSync(join(dataDir, 'unused')), false);
  });
});

test('a second store on the same directory fails with STORE_CLOSED while the first is open', async () => {
  const temp = await tempLevelStore();
  try {
    const second = new LevelStore({ location: join(temp.dir, 'leveldb'), logger: silent });
    await assert.rejects(second.start(), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_CLOSED') && /could not be opened/.test(error.message));
    assert.equal(second.health().ok, false);
    assert.equal(temp.store.health().ok, true);
  } finally {
    await temp.cleanup();
  }
});

test('a directory holding some other LevelDB is refused with STORE_CORRUPT, and left as it was', async () => {
  await withTempDir(async (dir) => {
    const foreign = new Level(dir);
    await foreign.put('someone', 'else');
    await foreign.close();
    const store = new LevelStore({ location: dir, logger: silent });
    await assert.rejects(store.start(), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_CORRUPT'));
    const check = new Level(dir);
    assert.deepEqual(await check.keys().all(), ['someone']);
    await check.close();
  });
});

// A newer format is a downgrade, refused with STORE_VERSION: level-previous-release.test.ts.
test('a store of a format no rollcall wrote is refused with STORE_CORRUPT', async () => {
  await withTempDir(async (dir) => {
    const raw = new Level(dir);
    await raw.put('!m!format', '0');
    await raw.close();
    const store = new LevelStore({ location: dir, logger: silent });
    await assert.rejects(store.start(), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_CORRUPT') && /format 0/.test(error.message));
  });
});

test('an unreadable record is reported as STORE_CORRUPT, and the rest stays readable', async () => {
  const temp = await tempLevelStore();
  try {
    await temp.store.commit([
      { type: 'putUser', user: emptyUser('good'), origin: { kind: 'server' } },
      { type: 'putUser', user: emptyUser('bad'), origin: { kind: 'server' } },
      { type: 'putDevice', device: { id: 9, source: 'config', lastEventId: 0 } },
    ]);
    await temp.store.stop();
    const raw = new Level(join(temp.dir, 'leveldb'));
    await raw.put('!u!bad', '{"id":"bad",');
    await raw.put(`!d!${(9).toString(16).padStart(16, '0')}`, 'not json');
    await raw.close();
    const store = await temp.reopen();
    await assert.rejects(store.getUser('bad'), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_CORRUPT') && error.detail?.['userId'] === 'bad');
    await assert.rejects(store.getDevice(9), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_CORRUPT'));
    assert.equal((await store.getUser('good'))?.id, 'good');
  } finally {
    await temp.cleanup();
  }
});

test('keys follow the documented layout', async () => {
  const temp = await tempLevelStore();
  try {
    await temp.store.commit([
      { type: 'putUser', user: emptyUser('a'), origin: { kind: 'server' } },
      { type: 'deleteUser', userId: 'b', origin: { kind: 'server' } },
      { type: 'setCursor', deviceId: 10, seq: 2 },
      { type: 'putDevice', device: { id: 10, source: 'config', lastEventId: 0 } },
      { type: 'putImport', record: { hash: 'ab', file: 'f.csv', format: 'csv', state: 'done', startedAt: 1, checkpoint: 0, counts: { ok: 0, failed: 0, skipped: 0 } } },
      { type: 'appendEvent', event: { kind: 'user.update.server', message: 'm', userId: 'a', deviceId: 10, at: 255 } },
    ]);
    await temp.store.stop();
    const raw = new Level(join(temp.dir, 'leveldb'));
    const keys = await raw.keys().all();
    await raw.close();
    const hex = (n: number) => n.toString(16).padStart(16, '0');
    assert.deepEqual(
      keys.sort(),
      [
        `!c!${hex(10)}`,
        `!d!${hex(10)}`,
        `!e!${hex(1)}`,
        `!ed!${hex(10)}!${hex(1)}`,
        `!et!${hex(255)}!${hex(1)}`,
        `!eu!61!${hex(1)}`,
        `!f!${hex(1)}`,
        `!f!${hex(2)}`,
        '!i!ab',
        '!m!format',
        '!m!seq',
        '!m!users',
        `!t!${hex(2)}`,
        '!sm!a',
        '!u!a',
        '!us!a',
        '!us!b',
      ].sort(),
    );
  } finally {
    await temp.cleanup();
  }
});
