/**
 * Reading users in pages that keep each response under the message limit: the page size is
 * guessed from a heavy user, and a page that still overflows is split in two.
 */
import { callCode } from './channel.js';
import { GrpcCode } from './status-code.js';

/**
 * A generous size of one user read back with Get: a 16 KB photo, ten fingers of two 384-byte
 * templates and a ~90 KB face set. Pages of users are sized from it, so a response stays
 * under the message limit; a page that still overflows is split in two.
 */
const HEAVY_USER_BYTES = 128 * 1024;
const MAX_USERS_PER_PAGE = 1000;

/** Thrown by a page reader to have its page split in two. */
export class SplitPage extends Error {}

/**
 * Calls `read` page by page. Pages start at a size that keeps a response of heavy users
 * under `maxMessageBytes`; a page the gateway or the channel still finds too large
 * (RESOURCE_EXHAUSTED), or that `read` asks to split (SplitPage), is split in two and read
 * again.
 */
export async function readInPages(userIds: readonly string[], maxMessageBytes: number, read: (page: string[]) => Promise<void>): Promise<void> {
  const size = Math.max(1, Math.min(MAX_USERS_PER_PAGE, Math.floor(maxMessageBytes / HEAVY_USER_BYTES)));
  const pages: string[][] = [];
  for (let i = 0; i < userIds.length; i += size) pages.push(userIds.slice(i, i + size));
  for (let page = pages.shift(); page !== undefined; page = pages.shift()) {
    try {
      await read(page);
    } catch (error) {
      const split = error instanceof SplitPage || callCode(error) === GrpcCode.RESOURCE_EXHAUSTED;
      if (!split || page.length === 1) throw error;
      const half = Math.ceil(page.length / 2);
      pages.unshift(page.slice(0, half), page.slice(half));
    }
  }
}
