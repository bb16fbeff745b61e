/**
 * Exports list users as BioStar does (numeric IDs by number, then alphanumeric IDs as
 * text), not in the store's key order (1, 1001, 2). A real LevelDB store and a real drop
 * folder.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { compareUserIds, usersInIdOrder } from '../../../daemon/ingest/export-order.js';
import { emptyUser, type User } from '../../../daemon/model/user.js';
import { SpoolHarness } from '../../helpers/ingest-spool.js';
import { tempLevelStore } from '../../helpers/stores.js';

function user(id: string): User {
  return { ...emptyUser(id), name: `User ${id}` };
}

/** Inserted out of order; the store's key order would be 1, 10, 1001, 2, 9, A-1, B, a, b. */
const IDS = ['1001', 'b', '2', 'A-1', '10', '1', 'a', '9', 'B'];
const BIOSTAR_ORDER = ['1', '2', '9', '10', '1001', 'A-1', 'B', 'a', 'b'];

describe('compareUserIds', () => {
  test('numeric IDs by number, then alphanumeric IDs as text', () => {
    assert.deepEqual([...IDS].sort(compareUserIds), BIOSTAR_ORDER);
  });

  test('leading zeros count by number; the same number sorts by its text', () => {
    assert.deepEqual(['10', '007', '7', '08', '4294967294', '99'].sort(compareUserIds), ['007', '7', '08', '10', '99', '4294967294']);
  });

  test('an ID of digits and letters is alphanumeric', () => {
    assert.deepEqual(['2', '1a', '10', '1'].sort(compareUserIds), ['1', '2', '10', '1a']);
  });
});

describe('usersInIdOrder', () => {
  test('reads every user of a LevelDB store in BioStar order, in pages', async () => {
    const stored = await tempLevelStore();
    try {
      await stored.store.commit(IDS.map((id) => ({ type: 'putUser' as const, user: user(id), origin: { kind: 'server' as const } })));
      const scanned: string[] = [];
      for await (const u of stored.store.scanUsers()) scanned.push(u.id);
      assert.notDeepEqual(scanned, BIOSTAR_ORDER, 'the store scans in key order: this test would pass without sorting otherwise');
      const ordered: User[] = [];
      for await (const u of usersInIdOrder(stored.store, { pageSize: 2 })) ordered.push(u);
      assert.deepEqual(
        ordered.map((u) => u.id),
        BIOSTAR_ORDER,
      );
      assert.deepEqual(ordered[0], user('1'), 'whole users, as stored');
    } finally {
      await stored.cleanup();
    }
  });

  test('an aborted signal stops it between pages', async () => {
    const stored = await tempLevelStore();
    try {
      await stored.store.commit(IDS.map((id) => ({ type: 'putUser' as const, user: user(id), origin: { kind: 'server' as const } })));
      const controller = new AbortController();
      const seen: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const u of usersInIdOrder(stored.store, { pageSize: 2, signal: controller.signal })) {
            seen.push(u.id);
            controller.abort();
          }
        })(),
        { name: 'AbortError' },
      );
      assert.deepEqual(seen, ['1', '2']);
    } finally {
      await stored.cleanup();
    }
  });
});

describe('exports in BioStar order', () => {
  test('a CSV export through the drop folder lists users 1, 2, …, 1001, then alphanumeric IDs', async () => {
    const h = await SpoolHarness.start();
    try {
      await h.store.commit(IDS.map((id) => ({ type: 'putUser' as const, user: user(id), origin: { kind: 'server' as const } })));
      const result = await h.folder.exportUsers('csv');
      const lines = (await readFile(result.path, 'utf8')).split('\r\n').slice(1).filter((line) => line !== '');
      assert.deepEqual(
        lines.map((line) => line.split(',')[0]),
        BIOSTAR_ORDER,
      );
    } finally {
      await h.stop();
    }
  });
});
