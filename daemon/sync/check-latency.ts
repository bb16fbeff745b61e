/**
 * The sync latency of the changes a check acknowledged. A check that finds a device in sync
 * (or repairs it) moves its cursor past changes no batch acknowledged: after a takeover, a
 * restart, or a device that was away. Those changes reached the device no later than now, so
 * their latency is observed as of now, like a batch's: without it the histogram only saw the
 * changes fed batch by batch, and a takeover's 15 s looked like its next batch's 0.8 s.
 *
 * The feed is read without its users, in pages, after the check's commit and beside the rest
 * of the work: it is only for the metric, so a read that fails observes what it has.
 */
import type { Histogram } from 'prom-client';
import type { Store } from '../plugins/api.js';
import { WALK_PAGE } from './change-feed.js';
import { observeSince } from '../obs/observe-many.js';

export async function observeCheckedChanges(store: Store, latency: Histogram<never>, from: number, upTo: number, now: number): Promise<number> {
  let observed = 0;
  try {
    for (let after = from; after < upTo; ) {
      const changes = await store.changesSince(after, { limit: WALK_PAGE });
      if (changes.length === 0) break;
      const acknowledged = changes.filter((change) => change.seq <= upTo);
      observeSince(latency, now, acknowledged.map((change) => change.at));
      observed += acknowledged.length;
      if (acknowledged.length < changes.length) return observed;
      after = changes.at(-1)!.seq;
    }
  } catch {
    // The store closed or failed: the metric goes without the rest.
  }
  return observed;
}
