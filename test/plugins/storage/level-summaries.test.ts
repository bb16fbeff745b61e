/**
 * The user summaries of the LevelDB store (summary-index.ts) in stores made before them: a
 * store of format 2 opens, gets its summaries and becomes format 3 with nothing else changed;
 * one of format 1 (unsealed) gets them at every open and keeps its format until repaired; a
 * record that cannot be read gets a summary that sends its reader to the record itself.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Level } from 'level';
import { isRollcallError } from '../../../daemon/errors.js';
import { summarizeUser, type UserSummary } from '../../../daemon/model/user-summary.js';
import { emptyUser, type User } from '../../../daemon/model/user.js';
import type { Store } from '../../../daemon/plugins/api.js';
import { repairLevelStore } from '../../../plugins/storage/level/repair.js';
import { seal } from '../../../plugins/storage/level/sealed-values.js';
import { tempLevelStore, type TempLevelStore } from '../../helpers/stores.js';

const users: User[] = [
  { ...emptyUser('1'), name: 'Ada', cards: [{ type: 1, data: 'AQ==' }], accessGroups: [2] },
  { ...emptyUser('2'), name: 'Bob', fingers: [{ index: 0, flag: 0, templates: ['AAEC', 'AwQF'] }], pinHash: Buffer.alloc(32, 3).toString('base64') },
  { ...emptyUser('3'), name: 'Cy' },
];

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Every summary the store gives, its pages joined. */
async function summariesOf(store: Store): Promise<UserSummary[]> {
  return (await collect(store.scanUserSummaries())).flat();
}

/** Everything a store serves but its summaries. */
async function contents(store: Store) {
  return { users: await collect(store.scanUsers()), changes: await store.changesSince(0), count: await store.countUsers(), seq: store.currentSeq() };
}

/** A store with `users` whose summaries are gone and whose format is `format`, as one made before format 3 would be. */
async function olderStore(format: 1 | 2): Promise<{ temp: TempLevelStore; before: Awaited<ReturnType<typeof contents>> }> {
  const temp = await tempLevelStore();
  await temp.store.commit(users.map((user) => ({ type: 'putUser' as const, user, origin: { kind: 'server' as const } })));
  const before = await contents(temp.store);
  await temp.store.stop();
  const raw = new Level<string, string>(join(temp.dir, 'leveldb'));
  await raw.open();
  const batch = raw.batch();
  for await (const [key, value] of raw.iterator()) {
    if (key.startsWith('!sm!')) batch.del(key);
    // Format 1 had no seals: `~` + 8 hex digits of CRC-32 before the JSON.
    else if (format === 1 && value.startsWith('~')) batch.put(key, value.slice(9));
  }
  batch.put('!m!format', format === 1 ? '1' : seal('2'));
  await batch.write();
  await raw.close();
  return { temp, before };
}

async function rawValue(dir: string, key: string): Promise<string | undefined> {
  const raw = new Level<string, string>(join(dir, 'leveldb'));
  try {
    return await raw.get(key);
  } finally {
    await raw.close();
  }
}

test('a store of format 2 opens, gets its user summaries and becomes format 3; nothing else changes', async () => {
  const { temp, before } = await olderStore(2);
  try {
    assert.equal(await rawValue(temp.dir, '!sm!1'), undefined, 'the older store has no summaries');
    const store = await temp.reopen();
    assert.deepEqual(await contents(store), before, 'users, feed, count and seq as they were');
    assert.deepEqual(await summariesOf(store), users.map(summarizeUser));
    await store.commit([{ type: 'deleteUser', userId: '2', origin: { kind: 'server' } }]);
    assert.deepEqual((await summariesOf(store)).map((s) => s.id), ['1', '3'], 'kept by commits from then on');
    await temp.store.stop();
    assert.equal(await rawValue(temp.dir, '!m!format'), seal('3'));
    const again = await temp.reopen();
    assert.deepEqual((await summariesOf(again)).map((s) => s.id), ['1', '3']);
  } finally {
    await temp.cleanup();
  }
});

test('a store of format 1 gets its summaries at open and stays format 1 until repaired, which makes it 3', async () => {
  const { temp, before } = await olderStore(1);
  try {
    const store = await temp.reopen();
    assert.deepEqual(await contents(store), before);
    assert.deepEqual(await summariesOf(store), users.map(summarizeUser));
    await temp.store.stop();
    assert.equal(await rawValue(temp.dir, '!m!format'), '1', 'still format 1: its values are not sealed');
    const report = await repairLevelStore({ location: join(temp.dir, 'leveldb'), dropCorrupt: false });
    assert.equal(report.ok, true, report.lines.join('\n'));
    assert.equal(await rawValue(temp.dir, '!m!format'), seal('3'));
    const repaired = await temp.reopen();
    assert.deepEqual(await contents(repaired), before);
    assert.deepEqual(await summariesOf(repaired), users.map(summarizeUser));
  } finally {
    await temp.cleanup();
  }
});

test('a user record that cannot be read gets a summary that is not sound; the store opens and the record is never replaced', async () => {
  const { temp } = await olderStore(2);
  try {
    const broken = '{"id":"2",';
    const raw = new Level<string, string>(join(temp.dir, 'leveldb'));
    await raw.put('!u!2', seal(broken));
    await raw.close();
    const store = await temp.reopen();
    const summaries = await summariesOf(store);
    assert.deepEqual(summaries.map((s) => [s.id, s.sound]), [['1', true], ['2', false], ['3', true]], 'the broken user is summarized, not left out');
    await assert.rejects(store.getUser('2'), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_CORRUPT'));
    await temp.store.stop();
    assert.equal(await rawValue(temp.dir, '!u!2'), seal(broken), 'the record is as it was');
    await temp.reopen();
  } finally {
    await temp.cleanup();
  }
});

test('a summary that cannot be read fails the scan with STORE_CORRUPT naming the user; repair builds it again', async () => {
  const temp = await tempLevelStore();
  try {
    await temp.store.commit(users.map((user) => ({ type: 'putUser' as const, user, origin: { kind: 'server' as const } })));
    await temp.store.stop();
    const raw = new Level<string, string>(join(temp.dir, 'leveldb'));
    await raw.put('!sm!2', seal('{"not":"a summary"}'));
    await raw.close();
    const store = await temp.reopen();
    await assert.rejects(summariesOf(store), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_CORRUPT') && error.detail?.['userId'] === '2');
    await temp.store.stop();
    const report = await repairLevelStore({ location: join(temp.dir, 'leveldb'), dropCorrupt: false });
    assert.equal(report.ok, true, report.lines.join('\n'));
    const repaired = await temp.reopen();
    assert.deepEqual(await summariesOf(repaired), users.map(summarizeUser));
  } finally {
    await temp.cleanup();
  }
});
