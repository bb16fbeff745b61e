/**
 * Reliability suite 7, a damaged store (issue 15): a file LevelDB needs is deleted or cut
 * short, or a byte of a stored user is flipped, in a real LevelDB of a closed store. The
 * store refuses with its code and deletes nothing (every table and log byte-identical),
 * the real `rollcall run` exits 65 (which rollcall.service does not restart into), and the
 * real `rollcall store repair` brings the users back, or lists the corrupt record by key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { isRollcallError, type ErrorCode } from '../../daemon/errors.js';
import { emptyUser, type User } from '../../daemon/model/user.js';
import { LevelStore } from '../../plugins/storage/level/level-store.js';
import { freePort, runCli } from '../helpers/daemon-process.js';

const silent = pino({ level: 'silent' });
const USERS = 300;

/** Names without repeats, which snappy keeps as literal bytes: a flipped byte lands inside a name. */
function userAt(i: number): User {
  return { ...emptyUser(`u${String(i).padStart(4, '0')}`), name: createHash('sha256').update(`name ${i}`).digest('base64').replace(/[+/=]/g, '').slice(0, 24) };
}

interface Site {
  dir: string;
  config: string;
  location: string;
}

/** A config and a closed level store with USERS users in table files (the log replayed into a table on reopen). */
async function site(): Promise<Site> {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-damage-'));
  const dataDir = join(dir, 'state');
  const location = join(dataDir, 'plugins', 'storage', 'level', 'leveldb');
  const config = join(dir, 'rollcall.yaml');
  await writeFile(
    config,
    `dataDir: ${dataDir}\nhttp:\n  listen: 127.0.0.1:${await freePort()}\nadmin:\n  socket: ${join(dir, 'admin.sock')}\nlog:\n  level: info\nseed:\n  users:\n    - id: seed-1\n      name: Example\n`,
  );
  const store = new LevelStore({ location, logger: silent });
  await store.start();
  for (let start = 0; start < USERS; start += 100) {
    await store.commit(Array.from({ length: 100 }, (_, k) => ({ type: 'putUser' as const, user: userAt(start + k), origin: { kind: 'server' as const } })));
  }
  await store.stop();
  const again = new LevelStore({ location, logger: silent });
  await again.start();
  await again.stop();
  return { dir, config, location };
}

/** Every LevelDB data file (tables, logs, manifests; or only `tableFiles`) with its sha256. */
async function dataFiles(location: string, pattern = /^(\d+\.(ldb|sst|log)|MANIFEST-\d+)$/): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of (await readdir(location)).sort()) {
    if (!pattern.test(name)) continue;
    files.set(name, createHash('sha256').update(await readFile(join(location, name))).digest('hex'));
  }
  return files;
}

/**
 * The table files alone. LevelDB opens tables lazily, so with a cut table the open itself
 * succeeds and, as on every open, writes a new manifest and log in place of the old (same
 * content); the first read then fails. The tables are what must not change.
 */
const tableFiles = (location: string): Promise<Map<string, string>> => dataFiles(location, /^\d+\.(ldb|sst)$/);

async function tables(location: string): Promise<string[]> {
  return (await readdir(location)).filter((n) => n.endsWith('.ldb') || n.endsWith('.sst'));
}

async function refusal(location: string, code: ErrorCode): Promise<Error & { detail?: Record<string, unknown> }> {
  const store = new LevelStore({ location, logger: silent });
  let caught: unknown;
  await store.start().catch((error: unknown) => (caught = error));
  await store.stop().catch(() => undefined);
  assert.ok(isRollcallError(caught, code), `expected ${code}, got ${String(caught)}`);
  return caught;
}

async function allUsers(location: string): Promise<User[]> {
  const store = new LevelStore({ location, logger: silent });
  await store.start();
  try {
    const users: User[] = [];
    for await (const user of store.scanUsers()) users.push(user);
    return users;
  } finally {
    await store.stop();
  }
}

/** `rollcall run` on the damaged store: exit 65, the code in the log, nothing seeded, nothing deleted. */
async function daemonRefuses(s: Site, code: ErrorCode, files: (location: string) => Promise<unknown> = dataFiles): Promise<void> {
  const before = await files(s.location);
  const result = await runCli(['run', '--config', s.config], { timeoutMs: 60_000 });
  assert.equal(result.code, 65, `exit code; stdout: ${result.stdout.slice(-2000)} stderr: ${result.stderr}`);
  assert.match(result.stdout, new RegExp(code));
  assert.doesNotMatch(result.stdout, /seed users/);
  assert.deepEqual(await files(s.location), before, 'the daemon changed or deleted LevelDB files');
}

async function repair(s: Site, ...extra: string[]): Promise<{ code: number | null; report: Record<string, unknown> }> {
  const result = await runCli(['store', 'repair', '--config', s.config, '--json', ...extra], { timeoutMs: 60_000 });
  assert.ok(result.stdout.trim().length > 0, `no report; stderr: ${result.stderr}`);
  return { code: result.code, report: JSON.parse(result.stdout) as Record<string, unknown> };
}

test('CURRENT deleted: the store refuses (STORE_DAMAGED, nothing deleted), the daemon exits 65, `store repair` brings every user back', { timeout: 120_000 }, async () => {
  const s = await site();
  try {
    await unlink(join(s.location, 'CURRENT'));
    const before = await dataFiles(s.location);
    assert.ok((await tables(s.location)).length > 0, 'the users are in table files');
    const error = await refusal(s.location, 'ROLLCALL_ERR_STORE_DAMAGED');
    assert.equal(error.detail?.['missing'], 'CURRENT');
    assert.match(error.message, new RegExp(s.location.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(error.message, /rollcall store repair/);
    assert.deepEqual(await dataFiles(s.location), before, 'the tables and logs are byte-identical');
    await daemonRefuses(s, 'ROLLCALL_ERR_STORE_DAMAGED');

    const { code, report } = await repair(s);
    assert.equal(code, 0, JSON.stringify(report));
    const users = await allUsers(s.location);
    assert.equal(users.length, USERS);
    assert.deepEqual(users.map((u) => u.name), Array.from({ length: USERS }, (_, i) => userAt(i).name));
    console.log(`# store damage: CURRENT deleted: refused, ${before.size} data files unchanged, daemon exit 65; repair exit ${code}, ${users.length}/${USERS} users back`);
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('MANIFEST truncated: STORE_DAMAGED, nothing deleted, `store repair` brings every user back', { timeout: 120_000 }, async () => {
  const s = await site();
  try {
    const manifest = (await readdir(s.location)).find((n) => n.startsWith('MANIFEST-'))!;
    await truncate(join(s.location, manifest), Math.floor((await stat(join(s.location, manifest))).size / 2));
    const before = await dataFiles(s.location);
    await refusal(s.location, 'ROLLCALL_ERR_STORE_DAMAGED');
    assert.deepEqual(await dataFiles(s.location), before);
    const { code } = await repair(s);
    assert.equal(code, 0);
    assert.equal((await allUsers(s.location)).length, USERS);
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('a table truncated: STORE_DAMAGED, the daemon exits 65; `store repair` moves it to lost/ and the store opens with counters that match what is left', { timeout: 120_000 }, async () => {
  const s = await site();
  try {
    const [table] = await tables(s.location);
    await truncate(join(s.location, table!), Math.floor((await stat(join(s.location, table!))).size / 2));
    const before = await tableFiles(s.location);
    await refusal(s.location, 'ROLLCALL_ERR_STORE_DAMAGED');
    assert.deepEqual(await tableFiles(s.location), before);
    await daemonRefuses(s, 'ROLLCALL_ERR_STORE_DAMAGED', tableFiles);
    const { code, report } = await repair(s);
    assert.equal(code, 0, JSON.stringify(report));
    assert.ok((report['lost'] as string[]).includes(table!), 'the cut table is kept in lost/, not deleted');
    // The whole store was in that one table: LevelDB cannot read a table without its footer.
    const store = new LevelStore({ location: s.location, logger: silent });
    await store.start();
    try {
      assert.equal(await store.countUsers(), report['users']);
    } finally {
      await store.stop();
    }
    console.log(`# store damage: table truncated: refused, daemon exit 65; repair exit ${code}, users left ${String(report['users'])} of ${USERS} (the table is in lost/)`);
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('a byte flipped in a stored name: getUser, getUsers and scanUsers refuse with STORE_CORRUPT naming the user, never the data; repair lists it, --drop-corrupt removes only it', { timeout: 120_000 }, async () => {
  const s = await site();
  try {
    const victim = userAt(137);
    const needle = Buffer.from(victim.name.slice(0, 12));
    let flipped: string | undefined;
    for (const table of await tables(s.location)) {
      const bytes = await readFile(join(s.location, table));
      const at = bytes.indexOf(needle);
      if (at < 0) continue;
      bytes[at + 3]! ^= 0x01; // a letter becomes its neighbour: still valid JSON, still a plausible name
      await writeFile(join(s.location, table), bytes);
      flipped = table;
    }
    assert.ok(flipped, 'the name is stored as literal bytes in a table');

    const store = new LevelStore({ location: s.location, logger: silent });
    await store.start();
    const names = (error: unknown): boolean => {
      assert.ok(isRollcallError(error, 'ROLLCALL_ERR_STORE_CORRUPT'), String(error));
      assert.equal(error.detail?.['userId'], victim.id);
      const text = `${error.message} ${JSON.stringify(error.detail)}`;
      assert.ok(!text.includes(victim.name.slice(4)), 'the error carries stored data');
      return true;
    };
    try {
      await assert.rejects(store.getUser(victim.id), names);
      await assert.rejects(store.getUsers([userAt(1).id, victim.id]), names);
      await assert.rejects(async () => {
        for await (const _ of store.scanUsers()) void _;
      }, names);
      assert.equal((await store.getUser(userAt(1).id))?.name, userAt(1).name, 'the other users are still served');
    } finally {
      await store.stop();
    }

    const listed = await repair(s);
    assert.equal(listed.code, 65, 'damage remains until it is dropped');
    assert.deepEqual((listed.report['corrupt'] as { key: string }[]).map((c) => c.key), [victim.id]);
    const dropped = await repair(s, '--drop-corrupt');
    assert.equal(dropped.code, 0);
    const users = await allUsers(s.location);
    assert.equal(users.length, USERS - 1);
    assert.ok(users.every((u) => u.id !== victim.id && u.name === userAt(Number(u.id.slice(1))).name));
    console.log(`# store damage: byte flipped in ${flipped}: getUser/getUsers/scanUsers refuse naming ${victim.id}; repair exit ${listed.code} listing it; --drop-corrupt exit ${dropped.code}, ${users.length} users intact`);
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('the store directory is 0700 and no file in it is readable by group or others, whatever the umask', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-perm-'));
  const previous = process.umask(0o022);
  try {
    const location = join(dir, 'state', 'leveldb');
    const store = new LevelStore({ location, logger: silent });
    await store.start();
    await store.commit([{ type: 'putUser', user: userAt(1), origin: { kind: 'server' } }]);
    await store.stop();
    assert.equal((await stat(location)).mode & 0o777, 0o700);
    const loose: string[] = [];
    for (const name of await readdir(location)) {
      const mode = (await stat(join(location, name))).mode;
      if ((mode & 0o077) !== 0) loose.push(`${name} ${(mode & 0o777).toString(8)}`);
    }
    assert.deepEqual(loose, []);
  } finally {
    process.umask(previous);
    await rm(dir, { recursive: true, force: true });
  }
});
