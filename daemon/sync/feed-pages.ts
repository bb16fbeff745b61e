/**
 * Pages of the change feed as the device groups read them: each read once, and read ahead.
 *
 * A group of devices is fed one batch at a time: its cursor moves only once it acknowledged a
 * batch, so the next batch cannot be sent before. It can be read, though: while the devices
 * work on batch k, the page after it is read from the store and its users sized (which encodes
 * them once for the send, see the transport's encodedSize), so that the group's next feed finds
 * it ready instead of waiting for the store after every ack. Two pages are read ahead
 * (READ_AHEAD_PAGES), so that the page the next feed takes is ready even when reading and
 * encoding one page takes about as long as the devices take for a batch, and users are
 * sized a few at a time (SIZE_CHUNK), so that a reply that comes in meanwhile is booked and
 * the next batch sent without waiting for the whole page. And groups at the same cursor
 * (devices served alone, or parts of a call cut at its soft deadline) share one read of a page
 * and its users' encodings instead of one each.
 *
 * A page read earlier is as good as one read now: seqs only grow, so what was committed after
 * it was read has a seq past the page's target and comes in a later page, and a user changed
 * meanwhile is sent again with that change. A page is taken only by a read from the same
 * cursor with the same limit and a target at least the page's own, and only while it is
 * young (PAGE_TTL_MS), so that a device coming back late gets what the store holds now. An
 * empty page is never kept: a fresh read decides how far an empty feed lets the cursor move.
 */
import type { User } from '../model/user.js';
import type { ChangeFeed } from './change-feed.js';
import { cutBatch, type BatchLimits, type FeedItem } from './planner.js';

/** Pages kept at once: a few per group fed in parallel (sync.concurrency defaults to 8). */
export const MAX_PAGES = 16;

/** Pages read ahead of the one at the devices: the next page, and the one after it. */
export const READ_AHEAD_PAGES = 2;

/** Users sized (encoded) between two turns of the event loop while a page is read ahead. */
export const SIZE_CHUNK = 64;

/** How long a page read (or read ahead) is handed out; older ones are read again. */
export const PAGE_TTL_MS = 5_000;

interface Page {
  upTo: number;
  readAt: number;
  items: Promise<FeedItem[] | undefined>;
  /** Where the batch cut from the page ends (undefined: not known, or the read failed). */
  end: Promise<number | undefined>;
}

export interface FeedPagesOptions {
  feed: ChangeFeed;
  /** The transport's size of a user (it keeps the encoding for the send). */
  sizeOf: (user: User) => number;
  /** Monotonic ms. */
  now?: () => number;
}

export class FeedPages {
  readonly #feed: ChangeFeed;
  readonly #sizeOf: (user: User) => number;
  readonly #now: () => number;
  /** By `${after}:${limit}`, oldest first. */
  readonly #pages = new Map<string, Page>();

  constructor(options: FeedPagesOptions) {
    this.#feed = options.feed;
    this.#sizeOf = options.sizeOf;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The changes after `after`, at most `limit`, none past `upTo`, with their users (ChangeFeed.read), read once for every group at that cursor. */
  async read(after: number, limit: number, upTo: number): Promise<FeedItem[]> {
    const key = `${after}:${limit}`;
    const page = this.#pages.get(key);
    if (page && page.upTo <= upTo && this.#now() - page.readAt <= PAGE_TTL_MS) {
      const items = await page.items;
      if (items && items.length > 0) return items;
    }
    const readAt = this.#now();
    const items = await this.#feed.read(after, limit, upTo);
    if (items.length > 0) this.#keep(key, { upTo, readAt, items: Promise.resolve(items), end: Promise.resolve(undefined) });
    else if (this.#pages.get(key) === page) this.#pages.delete(key);
    return items;
  }

  /**
   * Starts reading the page after `after` (at most `limit` changes, none past `upTo`) and
   * sizing the batch it makes, then the page after that batch, `pages` in all.
   */
  readAhead(after: number, limit: number, upTo: number, batch: BatchLimits, pages = READ_AHEAD_PAGES): void {
    if (pages < 1 || after >= upTo) return;
    const key = `${after}:${limit}`;
    const kept = this.#pages.get(key);
    if (kept) {
      // Read ahead already (by the feed before): the page after it may not be.
      if (pages > 1) void kept.end.then((end) => end !== undefined && this.readAhead(end, limit, upTo, batch, pages - 1));
      return;
    }
    const sized = this.#feed.read(after, limit, upTo).then(
      async (page) => ({ page, end: await this.#size(page, batch, after) }),
      // A failed read ahead is only a page not ready: the feed is read again when it is needed.
      () => undefined,
    );
    const end = sized.then((s) => s?.end);
    if (pages > 1) void end.then((seq) => seq !== undefined && this.readAhead(seq, limit, upTo, batch, pages - 1));
    this.#keep(key, { upTo, readAt: this.#now(), items: sized.then((s) => s?.page), end });
  }

  /**
   * Sizes the users of the batch `page` makes, SIZE_CHUNK at a time, yielding between chunks,
   * then cuts it (cutBatch, on sizes known by then); returns the seq the batch ends at, where
   * the page after it starts. Sizing stops past the byte limit, so no more than one user past
   * the cut is encoded.
   */
  async #size(page: readonly FeedItem[], batch: BatchLimits, after: number): Promise<number> {
    const sizes = new Map<User, number>();
    let bytes = 0;
    const count = Math.min(page.length, batch.maxUsers);
    for (let i = 0; i < count && bytes <= batch.maxBytes; i++) {
      if (i > 0 && i % SIZE_CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
      const user = page[i]!.user;
      if (!user) continue;
      const size = this.#sizeOf(user);
      sizes.set(user, size);
      bytes += size;
    }
    let end = after;
    for (const { change } of page.slice(0, cutBatch(page, batch, (user) => sizes.get(user) ?? this.#sizeOf(user)))) end = Math.max(end, change.seq);
    return end;
  }

  get size(): number {
    return this.#pages.size;
  }

  #keep(key: string, page: Page): void {
    this.#pages.delete(key);
    this.#pages.set(key, page);
    for (const oldest of this.#pages.keys()) {
      if (this.#pages.size <= MAX_PAGES) break;
      this.#pages.delete(oldest);
    }
  }
}
