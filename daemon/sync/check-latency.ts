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
import { observeMany } from '../obs/observe-many.js';

export async function observeCheckedChanges(store: Store, latency: Histogram<never>, from: number, upTo: number, now: number): Promise<number> {
  let observed = 0;
  try {
    for (let after = from; after < upTo; ) {
      const changes = await store.changesSince(after, { limit: WALK_PAGE });
      if (changes.length === 0) break;
      // The changes of one commit share its time: one weighted observation each (observeMany).
      const byTime = new Map<number, number>();
      let past = false;
      for (const change of changes) {
        if (change.seq > upTo) {
          past = true;
          break;
        }
        byTime.set(change.at, (byTime.get(change.at) ?? 0) + 1);
        observed += 1;
      }
      for (const [at, count] of byTime) observeMany(latency, Math.max(0, (now - at) / 1000), count);
      if (past) return observed;
      after = changes.at(-1)!.seq;
    }
  } catch {
    // The store closed or failed: the metric goes without the rest.
  }
  return observed;
}
