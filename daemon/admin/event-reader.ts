/**
 * Reading the event log for operators: the newest events (the store reads forward, oldest
 * first, so the newest are found in growing time windows), pages from a time, and following
 * new events as they are written.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventQuery, Store, StoredEvent } from '../plugins/api.js';

const PAGE = 1000;
/** Windows tried, newest first, before the whole log is read. */
const WINDOWS_MS = [3_600_000, 86_400_000, 7 * 86_400_000, 30 * 86_400_000, 365 * 86_400_000];

/** Every event matching `query` from its start, keeping only the last `keep`; counts all. */
async function tail(store: Store, query: EventQuery, keep: number): Promise<{ events: StoredEvent[]; matched: number }> {
  const kept: StoredEvent[] = [];
  let matched = 0;
  let afterId = query.afterId;
  for (;;) {
    const page = await store.queryEvents({ ...query, ...(afterId !== undefined ? { afterId } : {}), limit: PAGE });
    kept.push(...page);
    if (kept.length > 2 * keep) kept.splice(0, kept.length - keep);
    matched += page.length;
    if (page.length < PAGE) return { events: kept.slice(-keep), matched };
    afterId = page[page.length - 1]!.id;
  }
}

/** The newest `limit` events matching `query` (which has no `since`), oldest first; `more` when older ones match too. */
export async function newestEvents(store: Store, query: EventQuery, limit: number, now: number): Promise<{ events: StoredEvent[]; more: boolean }> {
  for (const window of WINDOWS_MS) {
    const found = await tail(store, { ...query, since: now - window }, limit);
    if (found.events.length >= limit) {
      const oldest = found.events[0]!;
      const more = found.matched > limit || (await store.queryEvents({ ...query, until: oldest.at, limit: 1 })).length > 0;
      return { events: found.events, more };
    }
  }
  const all = await tail(store, query, limit);
  return { events: all.events, more: all.matched > limit };
}

/** Events from `query.since` (or after `query.afterId`), oldest first, at most `limit`; `more` when the page was cut. */
export async function eventsPage(store: Store, query: EventQuery, limit: number): Promise<{ events: StoredEvent[]; more: boolean }> {
  const events = await store.queryEvents({ ...query, limit: limit + 1 });
  return { events: events.slice(0, limit), more: events.length > limit };
}

/** The ID of the newest event in the log, 0 when it is empty. */
export async function latestEventId(store: Store, now: number): Promise<number> {
  const { events } = await newestEvents(store, {}, 1, now);
  return events[0]?.id ?? 0;
}

export interface FollowOptions {
  /** Only events after this ID. */
  afterId: number;
  pollMs: number;
  signal: AbortSignal;
}

/**
 * Calls `emit` with each new event matching `query` as it is written, until `signal` fires.
 * The store has no notice for appended events (only for user changes), so this polls.
 */
export async function followEvents(store: Store, query: EventQuery, options: FollowOptions, emit: (event: StoredEvent) => Promise<void> | void): Promise<void> {
  let afterId = options.afterId;
  const { signal } = options;
  while (!signal.aborted) {
    const page = await store.queryEvents({ ...query, afterId, limit: PAGE });
    for (const event of page) {
      if (signal.aborted) return;
      await emit(event);
      afterId = event.id;
    }
    if (page.length < PAGE) {
      try {
        await sleep(options.pollMs, undefined, { signal });
      } catch {
        return;
      }
    }
  }
}
