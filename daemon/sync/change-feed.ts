/**
 * The change feed as the engine reads it (ARCHITECTURE §4): the one place the store's
 * feed is paged. A page is the coalesced changes after a seq (the latest op per user), up to
 * a target seq, each with the user as the store holds it now (undefined for a delete).
 *
 * The horizon rule: deletes older than the tombstone retention are pruned, so the feed read
 * from a seq before the horizon is no longer complete. Whoever would read from there (a
 * device that was away that long, an expected set that old) must look at the whole
 * database instead.
 */
import type { Store } from '../plugins/api.js';
import type { User } from '../model/user.js';
import type { FeedItem } from './planner.js';

/** Page size for reads that walk the feed to its head (guard counts, expected sets). */
export const WALK_PAGE = 2000;

export class ChangeFeed {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** The seq of the last commit. */
  get head(): number {
    return this.#store.currentSeq();
  }

  /** The changes after `after`, at most `limit`, none past `upTo`, with their users. */
  async read(after: number, limit: number, upTo: number): Promise<FeedItem[]> {
    const changes = (await this.#store.changesSince(after, { limit })).filter((c) => c.seq <= upTo);
    const upserts = changes.filter((c) => c.op === 'upsert').map((c) => c.userId);
    const users = upserts.length > 0 ? await this.#store.getUsers(upserts) : [];
    const byId = new Map<string, User>();
    for (const user of users) if (user) byId.set(user.id, user);
    return changes.map((change) => ({ change, user: change.op === 'upsert' ? byId.get(change.userId) : undefined }));
  }

  /** Every change after `after` up to `upTo`, page by page, oldest first. */
  async *pages(after: number, upTo: number, limit = WALK_PAGE): AsyncGenerator<FeedItem[]> {
    for (let from = after; from < upTo; ) {
      const page = await this.read(from, limit, upTo);
      if (page.length === 0) return;
      yield page;
      from = page.at(-1)!.change.seq;
    }
  }

  /** Whether the feed still holds every change after `seq` (no delete since was pruned). */
  async reachesBack(seq: number): Promise<boolean> {
    return seq + 1 >= (await this.#store.feedHorizon());
  }
}
