/**
 * The sublevels of the LevelDB store (the layout is in README.md), shared by the store and
 * by `rollcall store repair`. JSON values are sealed (sealed-values.ts); user records are
 * sealed text, unsealed by the store itself so that a broken one is reported by its key.
 */
import type { AbstractSublevel } from 'abstract-level';
import type { Level } from 'level';
import type { DeviceRecord } from '../../../daemon/model/device.js';
import type { Origin } from '../../../daemon/model/user.js';
import type { Change, ImportRecord, StoredEvent } from '../../../daemon/plugins/api.js';
import { sealedJson, type SealPolicy } from './sealed-values.js';

export interface FeedEntry {
  userId: string;
  op: Change['op'];
  at: number;
  origin: Origin;
}

export interface UserSeq {
  seq: number;
  op: Change['op'];
}

export interface Tombstone {
  userId: string;
  at: number;
}

export type Root = Level<string, string>;
export type Sublevel<V> = AbstractSublevel<Root, string | Buffer | Uint8Array, string, V>;

export interface Tables {
  db: Root;
  meta: Sublevel<number>;
  /** User records as sealed JSON text (written as given, unsealed and parsed on read). */
  users: Sublevel<string>;
  /** One summary per user (user-summary.ts encodeSummary), written with the user: see summary-index.ts. */
  summaries: Sublevel<unknown[]>;
  userSeq: Sublevel<UserSeq>;
  feed: Sublevel<FeedEntry>;
  tombstones: Sublevel<Tombstone>;
  cursors: Sublevel<number>;
  devices: Sublevel<DeviceRecord>;
  imports: Sublevel<ImportRecord>;
  events: Sublevel<StoredEvent>;
  eventsByUser: Sublevel<string>;
  eventsByDevice: Sublevel<string>;
  eventsByTime: Sublevel<string>;
}

/**
 * Sublevel names whose values carry a seal and that repair checks (the event indexes hold
 * empty values). The user summaries ('sm') are sealed too, but repair builds them again
 * from the users instead of checking them (summary-index.ts).
 */
export const sealedSublevels = ['m', 'u', 'us', 'f', 't', 'c', 'd', 'i', 'e'] as const;

export function defineTables(db: Root, policy: SealPolicy): Tables {
  const json = <V>(): { valueEncoding: ReturnType<typeof sealedJson<V>> } => ({ valueEncoding: sealedJson<V>(policy) });
  const text = { valueEncoding: 'utf8' } as const;
  return {
    db,
    meta: db.sublevel<string, number>('m', json<number>()),
    users: db.sublevel<string, string>('u', text),
    summaries: db.sublevel<string, unknown[]>('sm', json<unknown[]>()),
    userSeq: db.sublevel<string, UserSeq>('us', json<UserSeq>()),
    feed: db.sublevel<string, FeedEntry>('f', json<FeedEntry>()),
    tombstones: db.sublevel<string, Tombstone>('t', json<Tombstone>()),
    cursors: db.sublevel<string, number>('c', json<number>()),
    devices: db.sublevel<string, DeviceRecord>('d', json<DeviceRecord>()),
    imports: db.sublevel<string, ImportRecord>('i', json<ImportRecord>()),
    events: db.sublevel<string, StoredEvent>('e', json<StoredEvent>()),
    eventsByUser: db.sublevel<string, string>('eu', text),
    eventsByDevice: db.sublevel<string, string>('ed', text),
    eventsByTime: db.sublevel<string, string>('et', text),
  };
}
