/**
 * Upgrades keep the data (issue 17): stores written by earlier releases' code open in this
 * one with everything they held. Each folder of test/fixtures/store/ is a LevelDB store that
 * scripts/make-store-fixture.mjs made by running test/fixtures/store/write-store.mjs against
 * a build of an earlier git revision (source.json names it), with what that code read back
 * (expected.json). Committed, so the test needs neither the history nor a second install.
 * A store of a newer format than this code knows (a downgrade) is refused, unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { pino } from 'pino';
import { isRollcallError } from '../../../daemon/errors.js';
import { emptyUser } from '../../../daemon/model/user.js';
import { repoRoot } from '../../helpers/daemon-process.js';
import { LevelStore, storeFormat } from '../../../plugins/storage/level/level-store.js';
import { seal } from '../../../plugins/storage/level/sealed-values.js';
import { markerName } from '../../../plugins/storage/level/store-directory.js';

const silent = pino({ level: 'silent' });
const fixtures = join(repoRoot, 'test', 'fixtures', 'store');

interface Source {
  revision: string;
  version: string;
  format: number;
}

const names = (await readdir(fixtures, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
const sources = new Map<string, Source>();
for (const name of names) sources.set(name, JSON.parse(await readFile(join(fixtures, name, 'source.json'), 'utf8')) as Source);

/** JSON's view of a value: fields that are undefined are absent, as in expected.json. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

async function copyOf(name: string): Promise<{ dir: string; location: string }> {
  const dir = await mkdtemp(join(tmpdir(), `rollcall-${name}-`));
  const location = join(dir, 'leveldb');
  await cp(join(fixtures, name, 'leveldb'), location, { recursive: true });
  return { dir, location };
}

test('the fixtures include a store of the format before this one, made by an earlier revision', () => {
  const formats = [...sources.values()].map((s) => s.format);
  assert.ok(formats.includes(storeFormat - 1), `a fixture of format ${storeFormat - 1} (scripts/make-store-fixture.mjs); have ${formats.join(', ')}`);
  assert.ok(formats.every((f) => f <= storeFormat), 'no fixture is newer than this code');
});

for (const name of names) {
  const source = sources.get(name)!;
  test(`a store written by rollcall ${source.version} at ${source.revision.slice(0, 12)} (format ${source.format}) opens with all it held, and takes commits`, async () => {
    const expected = JSON.parse(await readFile(join(fixtures, name, 'expected.json'), 'utf8')) as Record<string, unknown> & {
      seq: number;
      users: { id: string }[];
      cursors: Record<string, number>;
    };
    const { dir, location } = await copyOf(name);
    try {
      const store = new LevelStore({ location, logger: silent });
      await store.start();
      const users = [];
      for await (const user of store.scanUsers()) users.push(user);
      assert.deepEqual(plain(users), expected.users);
      assert.equal(store.currentSeq(), expected.seq);
      assert.equal(await store.countUsers(), expected.userCount);
      assert.deepEqual(plain(await store.changesSince(0)), expected.changes);
      for (const [id, seq] of Object.entries(expected.cursors)) assert.equal(await store.cursor(Number(id)), seq, `cursor of device ${id}`);
      assert.deepEqual(plain(await store.listDevices()), expected.devices);
      assert.deepEqual(plain(await store.listImports()), expected.imports);
      assert.deepEqual(plain(await store.queryEvents()), expected.events);
      // Format 3's summaries are there for every user, whether written or built at open.
      let summaries = 0;
      for await (const page of store.scanUserSummaries()) summaries += page.length;
      assert.equal(summaries, expected.users.length);

      await store.commit([{ type: 'putUser', user: { ...emptyUser('after-upgrade'), name: 'After the upgrade' }, origin: { kind: 'server' } }]);
      assert.equal(store.currentSeq(), expected.seq + 1);
      await store.stop();

      const marker = JSON.parse(await readFile(join(location, markerName), 'utf8')) as { format: number };
      assert.equal(marker.format, storeFormat, 'the store is now of this format');
      const again = new LevelStore({ location, logger: silent });
      await again.start();
      assert.equal((await again.getUser('after-upgrade'))?.name, 'After the upgrade');
      assert.equal(await again.countUsers(), expected.users.length + 1);
      await again.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('a store of a newer format (a newer rollcall wrote it) is refused with STORE_VERSION, naming the path and the way back, unchanged', async () => {
  const newest = [...sources.entries()].sort(([, a], [, b]) => b.format - a.format)[0]![0];
  const { dir, location } = await copyOf(newest);
  try {
    const raw = new Level<string, string>(location);
    await raw.put('!m!format', seal(String(storeFormat + 1)));
    await raw.close();
    const store = new LevelStore({ location, logger: silent });
    await assert.rejects(store.start(), (error) => {
      assert.ok(isRollcallError(error, 'ROLLCALL_ERR_STORE_VERSION'), String(error));
      assert.ok(error.message.includes(location), error.message);
      assert.match(error.message, new RegExp(`format ${storeFormat + 1}, written by a newer rollcall`));
      assert.match(error.message, /Nothing was changed\. Install the newer rollcall again, or restore the copy/);
      return true;
    });
    const check = new Level<string, string>(location);
    assert.equal(await check.get('!m!format'), seal(String(storeFormat + 1)), 'left as it was');
    await check.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
