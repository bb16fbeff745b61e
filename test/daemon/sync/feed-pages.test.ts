/**
 * FeedPages over a real LevelDB: a page is read once for every group at its cursor, the next
 * one is read ahead, and neither ever hides a change: what was committed after a page was
 * read comes in a later page, with the user as the store holds it then.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempLevelStore } from '../../helpers/stores.js';
import { ChangeFeed } from '../../../daemon/sync/change-feed.js';
import { FeedPages, MAX_PAGES, PAGE_TTL_MS, READ_AHEAD_PAGES } from '../../../daemon/sync/feed-pages.js';
import type { FeedItem } from '../../../daemon/sync/planner.js';
import type { Store } from '../../../daemon/plugins/api.js';
import type { User } from '../../../daemon/model/user.js';
import { makeUser, putUsers, removeUsers } from '../../helpers/sync-harness.js';

const batch = { maxUsers: 500, maxBytes: 4_000_000 };
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.ok(done(), 'in time');
}

const names = (items: readonly FeedItem[]) => items.map((i) => `${i.change.seq}:${i.change.userId}:${i.user?.name ?? '-'}`);

interface Rig {
  store: Store;
  feed: ChangeFeed;
  pages: FeedPages;
  sized: User[];
  clock: { now: number };
}

function withPages(title: string, body: (rig: Rig) => Promise<void>): void {
  test(title, async () => {
    const stored = await tempLevelStore();
    try {
      const feed = new ChangeFeed(stored.store);
      const sized: User[] = [];
      const clock = { now: 0 };
      const pages = new FeedPages({ feed, sizeOf: (user) => (sized.push(user), 100), now: () => clock.now });
      await body({ store: stored.store, feed, pages, sized, clock });
    } finally {
      await stored.cleanup();
    }
  });
}

describe('FeedPages', () => {
  withPages('groups at one cursor share one read of a page', async ({ store, pages }) => {
    await putUsers(store, makeUser('a'), makeUser('b'), makeUser('c'));
    const first = await pages.read(0, 2, 3);
    assert.deepEqual(names(first), ['1:a:User a', '2:b:User b']);
    assert.equal(await pages.read(0, 2, 3), first, 'the same page, not a second read');
    // Another limit is another page.
    assert.deepEqual(names(await pages.read(0, 3, 3)), ['1:a:User a', '2:b:User b', '3:c:User c']);
  });

  withPages('a page read ahead is handed to the next read from its cursor, its users sized already', async ({ store, pages, sized }) => {
    await putUsers(store, makeUser('a'), makeUser('b'), makeUser('c'));
    pages.readAhead(1, 10, 3, batch);
    const ahead = await pages.read(1, 10, 3);
    assert.deepEqual(names(ahead), ['2:b:User b', '3:c:User c']);
    assert.deepEqual(sized, ahead.map((i) => i.user), 'each user of the batch sized (encoded) once, ahead');
    assert.equal(await pages.read(1, 10, 3), ahead);
    // Nothing to read ahead at the target.
    pages.readAhead(3, 10, 3, batch);
    assert.equal(pages.size, 1);
  });

  withPages(`${READ_AHEAD_PAGES} pages are read ahead, each from where the batch cut from the one before ends`, async ({ store, feed, pages, sized }) => {
    await putUsers(store, ...['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id) => makeUser(id)));
    // Batches of 2 users (pages of 3: the third user does not fit in 250 bytes of 100 each).
    const small = { maxUsers: 3, maxBytes: 250 };
    let reads = 0;
    const counted = new FeedPages({ feed: { read: (...args: Parameters<ChangeFeed['read']>) => (reads++, feed.read(...args)) } as ChangeFeed, sizeOf: (user) => (sized.push(user), 100) });
    counted.readAhead(0, 3, 7, small);
    await until(() => counted.size === READ_AHEAD_PAGES);
    assert.equal(reads, READ_AHEAD_PAGES);
    assert.deepEqual(names(await counted.read(0, 3, 7)), ['1:a:User a', '2:b:User b', '3:c:User c']);
    assert.deepEqual(names(await counted.read(2, 3, 7)), ['3:c:User c', '4:d:User d', '5:e:User e'], 'the second page starts after the first batch (a, b)');
    assert.equal(reads, READ_AHEAD_PAGES, 'both pages were handed out as read ahead');
    assert.deepEqual(sized.map((u) => u.id), ['a', 'b', 'c', 'c', 'd', 'e'], 'each page sized up to the user that does not fit');
    // The feed at the second page asks for the pages after its batch: two more are read.
    counted.readAhead(4, 3, 7, small);
    await until(() => reads === READ_AHEAD_PAGES + 2);
    assert.deepEqual(names(await counted.read(4, 3, 7)), ['5:e:User e', '6:f:User f', '7:g:User g']);
    // At the next page, the one after its batch is read ahead already: nothing is read again.
    counted.readAhead(6, 3, 7, small);
    assert.deepEqual(names(await counted.read(6, 3, 7)), ['7:g:User g']);
    assert.equal(reads, READ_AHEAD_PAGES + 2);
    void pages;
  });

  withPages('an edit committed after a page was read comes in the next page, as edited; a delete too', async ({ store, pages }) => {
    await putUsers(store, makeUser('a'), makeUser('b'), makeUser('c')); // 1..3
    const early = await pages.read(0, 10, 3);
    pages.readAhead(0, 10, 3, batch);
    await putUsers(store, makeUser('b', { name: 'B edited' })); // 4
    await removeUsers(store, 'c'); // 5
    // A group at cursor 0 may be handed the page read before the edit (target 3: the edit is past it) ...
    const page = await pages.read(0, 10, 5);
    assert.equal(page, early);
    const upTo = Math.max(...page.map((i) => i.change.seq));
    // ... and the edit and the delete follow from where that page ends.
    assert.deepEqual(names(await pages.read(upTo, 10, 5)), ['4:b:B edited', '5:c:-']);
  });

  withPages('a page read with a farther target than a read allows is not handed to it (manual mode)', async ({ store, pages }) => {
    await putUsers(store, makeUser('a'), makeUser('b'), makeUser('c'));
    await pages.read(0, 10, 3);
    assert.deepEqual(names(await pages.read(0, 10, 2)), ['1:a:User a', '2:b:User b']);
  });

  withPages('an empty page is not kept: what is committed next is read', async ({ store, pages }) => {
    await putUsers(store, makeUser('a'));
    assert.deepEqual(await pages.read(1, 10, 1), []);
    await putUsers(store, makeUser('b'));
    assert.deepEqual(names(await pages.read(1, 10, 2)), ['2:b:User b']);
  });

  withPages('an old page is read again: a device coming back late gets the users as stored now', async ({ store, pages, clock }) => {
    await putUsers(store, makeUser('a'), makeUser('b'));
    const early = await pages.read(0, 10, 2);
    await putUsers(store, makeUser('a', { name: 'A edited' })); // 3: a's entry moves to seq 3
    clock.now += PAGE_TTL_MS + 1;
    const late = await pages.read(0, 10, 3);
    assert.notEqual(late, early);
    assert.deepEqual(names(late), ['2:b:User b', '3:a:A edited']);
  });

  withPages(`at most ${MAX_PAGES} pages are kept, the oldest dropped first`, async ({ store, pages }) => {
    await putUsers(store, ...Array.from({ length: MAX_PAGES + 4 }, (_, i) => makeUser(String(i))));
    const first = await pages.read(0, 1, MAX_PAGES + 4);
    for (let after = 1; after < MAX_PAGES + 3; after++) await pages.read(after, 1, MAX_PAGES + 4);
    assert.equal(pages.size, MAX_PAGES);
    assert.notEqual(await pages.read(0, 1, MAX_PAGES + 4), first, 'the first page was dropped and read again');
  });
});
