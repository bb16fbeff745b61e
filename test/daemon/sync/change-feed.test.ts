/**
 * The change feed as the engine reads it, over a real LevelDB whose commit times follow a
 * manual clock (so that tombstones can be aged without waiting).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempLevelStore, type TempLevelStore } from '../../helpers/stores.js';
import { ChangeFeed, WALK_PAGE } from '../../../daemon/sync/change-feed.js';
import type { FeedItem } from '../../../daemon/sync/planner.js';
import type { Store } from '../../../daemon/plugins/api.js';
import { makeUser, putUsers, removeUsers } from '../../helpers/sync-harness.js';
import { ManualClock } from '../../helpers/sync-parts.js';

async function collectPages(pages: AsyncIterable<FeedItem[]>): Promise<FeedItem[][]> {
  const out: FeedItem[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

const seqs = (items: readonly FeedItem[]) => items.map((i) => i.change.seq);

function withFeed(title: string, body: (feed: ChangeFeed, store: Store, clock: ManualClock) => Promise<void>): void {
  test(title, async () => {
    const clock = new ManualClock();
    const stored: TempLevelStore = await tempLevelStore({ now: () => clock.now });
    try {
      await body(new ChangeFeed(stored.store), stored.store, clock);
    } finally {
      await stored.cleanup();
    }
  });
}

describe('ChangeFeed.read', () => {
  withFeed('the coalesced changes after a seq, each with the user as stored now, undefined for a delete', async (feed, store) => {
    await putUsers(store, makeUser('a'), makeUser('b'), makeUser('c')); // 1..3
    await removeUsers(store, 'b'); // 4
    await putUsers(store, makeUser('a', { name: 'Renamed' })); // 5
    assert.equal(feed.head, 5);

    const items = await feed.read(0, 10, feed.head);
    assert.deepEqual(
      items.map((i) => [i.change.seq, i.change.userId, i.change.op]),
      [
        [3, 'c', 'upsert'],
        [4, 'b', 'delete'],
        [5, 'a', 'upsert'],
      ],
    );
    assert.deepEqual(items[0]!.user, await store.getUser('c'));
    assert.equal(items[1]!.user, undefined, 'a delete carries no user');
    assert.equal(items[2]!.user?.name, 'Renamed', 'the user as the store holds it now');
  });

  withFeed('at most `limit` changes, none past `upTo`, none at or before `after`', async (feed, store) => {
    for (let i = 1; i <= 6; i++) await putUsers(store, makeUser(`u${i}`));
    assert.deepEqual(seqs(await feed.read(0, 4, 6)), [1, 2, 3, 4]);
    assert.deepEqual(seqs(await feed.read(2, 10, 6)), [3, 4, 5, 6]);
    assert.deepEqual(seqs(await feed.read(2, 10, 4)), [3, 4], 'the cut at upTo');
    assert.deepEqual(seqs(await feed.read(2, 2, 6)), [3, 4], 'the limit before the cut');
    assert.deepEqual(await feed.read(6, 10, 6), []);
    assert.deepEqual(await feed.read(4, 10, 4), [], 'nothing after upTo');
  });

  withFeed('a read of deletes alone loads no users', async (feed, store) => {
    await putUsers(store, makeUser('a'));
    await removeUsers(store, 'a', 'ghost');
    const items = await feed.read(0, 10, feed.head);
    assert.deepEqual(
      items.map((i) => [i.change.userId, i.change.op, i.user]),
      [
        ['a', 'delete', undefined],
        ['ghost', 'delete', undefined],
      ],
    );
  });
});

describe('ChangeFeed.pages', () => {
  withFeed('walks every change after a seq up to a target, oldest first, in pages of the given size, the latest op per user', async (feed, store) => {
    for (let i = 0; i < 10; i++) await putUsers(store, makeUser(`u${i}`)); // u0..u9 at 1..10
    await putUsers(store, makeUser('u2', { name: 'Renamed' })); // 11
    await removeUsers(store, 'u5'); // 12
    await putUsers(store, makeUser('u10')); // 13, past the target below

    const pages = await collectPages(feed.pages(0, 12, 3));
    assert.deepEqual(pages.map(seqs), [[1, 2, 4], [5, 7, 8], [9, 10, 11], [12]]);
    const items = pages.flat();
    assert.deepEqual(
      items.map((i) => i.change.userId),
      ['u0', 'u1', 'u3', 'u4', 'u6', 'u7', 'u8', 'u9', 'u2', 'u5'],
      'u2 and u5 once each, at their latest op; u10 is past the target',
    );
    assert.equal(items.find((i) => i.change.userId === 'u2')!.user?.name, 'Renamed');
    assert.equal(items.find((i) => i.change.userId === 'u5')!.user, undefined);
    assert.deepEqual(
      seqs(items),
      (await store.changesSince(0)).map((c) => c.seq).filter((seq) => seq <= 12),
      "the same changes as the store's feed, up to the target",
    );
  });

  withFeed('starts after `after`, stops at `upTo` even when the page would go on, and yields nothing when there is nothing', async (feed, store) => {
    for (let i = 0; i < 6; i++) await putUsers(store, makeUser(`u${i}`)); // 1..6
    assert.deepEqual((await collectPages(feed.pages(2, 5, 2))).map(seqs), [[3, 4], [5]]);
    assert.deepEqual((await collectPages(feed.pages(2, 4, 2))).map(seqs), [[3, 4]], 'a page ending at upTo is the last');
    assert.deepEqual(await collectPages(feed.pages(5, 5, 2)), []);
    assert.deepEqual(await collectPages(feed.pages(6, 6, 2)), []);
  });

  withFeed(`pages of ${WALK_PAGE} by default`, async (feed, store) => {
    const seq = await putUsers(store, ...Array.from({ length: WALK_PAGE + 1 }, (_, i) => makeUser(String(i + 1))));
    const pages = await collectPages(feed.pages(0, seq));
    assert.deepEqual(
      pages.map((p) => p.length),
      [WALK_PAGE, 1],
    );
    assert.equal(pages[1]![0]!.change.seq, seq);
  });
});

describe('ChangeFeed.reachesBack', () => {
  withFeed('whether the feed still holds every change after a seq, against the horizon that pruning moves', async (feed, store, clock) => {
    await putUsers(store, makeUser('a'), makeUser('b'), makeUser('c'), makeUser('d')); // 1..4
    await removeUsers(store, 'a', 'b'); // 5, 6
    const old = clock.now;
    clock.advance(60_000);
    await removeUsers(store, 'c'); // 7
    for (const seq of [0, 3, 6, 7]) assert.equal(await feed.reachesBack(seq), true, `nothing pruned yet: from ${seq}`);

    assert.equal(await store.pruneTombstones(old + 1), 2, 'the deletes of a and b are pruned');
    assert.equal(await store.feedHorizon(), 7);
    assert.equal(await feed.reachesBack(0), false, 'a reader from 0 would miss the deletes of a and b');
    assert.equal(await feed.reachesBack(5), false, 'from 5 it would miss the delete of b');
    assert.equal(await feed.reachesBack(6), true, 'from 6 nothing it needs was pruned');
    assert.equal(await feed.reachesBack(feed.head), true);
  });
});
