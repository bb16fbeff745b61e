/**
 * The user summaries of the LevelDB store (`!sm!<userId>`, daemon/model/user-summary.ts):
 * what a header check reads instead of whole user records. A commit writes a user's summary
 * in the same batch as the user (level-store.ts), so the index never disagrees with the
 * records; this file builds it whole from the records, for a store made before the index
 * (format 2 and older, at open) and after `rollcall store repair`.
 *
 * A record that cannot be read gets a summary that is not sound, so whoever places the user
 * reads the record itself and meets the same corruption error as before the index: a broken
 * user is never taken for an absent one (which a check would remove from the devices).
 */
import { decodeSummary, encodeSummary, summarizeUser, type UserSummary } from '../../../daemon/model/user-summary.js';
import type { User } from '../../../daemon/model/user.js';
import { seal, unseal } from './sealed-values.js';
import type { Root } from './tables.js';

const page = 1000;

/** The summary of a record that could not be read: not sound, so the record is read when placed. */
export function unreadableSummary(id: string): UserSummary {
  return { id, accessGroups: [], cards: 0, fingers: 0, faces: 0, visualFaces: 0, pin: false, sound: false, numericId: false, alphanumericId: false };
}

/** The sealed value of `summary` as the store writes it. */
export function summaryValue(summary: UserSummary): string {
  return seal(JSON.stringify(encodeSummary(summary)));
}

/**
 * Replaces every summary with one made from the user records (`legacy`: unsealed records of
 * a format 1 store are read). Returns how many users it summarized.
 */
export async function rebuildSummaries(db: Root, legacy: boolean): Promise<number> {
  const users = db.sublevel<string, string>('u', { valueEncoding: 'utf8' });
  const summaries = db.sublevel<string, string>('sm', { valueEncoding: 'utf8' });
  await summaries.clear();
  let batch = db.batch();
  let count = 0;
  for await (const [id, record] of users.iterator()) {
    batch.put(id, summaryValue(summaryOfRecord(id, record, legacy)), { sublevel: summaries });
    count += 1;
    if (batch.length >= page) {
      await batch.write();
      batch = db.batch();
    }
  }
  await batch.write();
  return count;
}

function summaryOfRecord(id: string, record: string, legacy: boolean): UserSummary {
  let user: User;
  try {
    user = JSON.parse(unseal(record, legacy)) as User;
  } catch {
    return unreadableSummary(id);
  }
  if (user === null || typeof user !== 'object' || user.id !== id) return unreadableSummary(id);
  return summarizeUser(user);
}

/** Distinct summary values a reader remembers (most sites have a few dozen). */
const knownValues = 10_000;

/**
 * Reads the summaries of one scan. Most users of a site share their summary but for the ID
 * (the same credential counts, flags and access groups), so the stored values repeat: a value
 * seen before in this scan was unsealed and checked then, and is not parsed again. Its
 * summary's parts are shared between the users with that value, never changed.
 */
export class SummaryReader {
  readonly #known = new Map<string, UserSummary>();

  /** The summary of user `id` from its stored value; undefined when the value is broken. */
  read(id: string, value: string): UserSummary | undefined {
    let known = this.#known.get(value);
    if (known === undefined) {
      try {
        known = decodeSummary('', JSON.parse(unseal(value, false)));
      } catch {
        known = undefined;
      }
      if (known === undefined) return undefined;
      if (this.#known.size < knownValues) this.#known.set(value, known);
    }
    const summary: UserSummary = {
      id,
      accessGroups: known.accessGroups,
      cards: known.cards,
      fingers: known.fingers,
      faces: known.faces,
      visualFaces: known.visualFaces,
      pin: known.pin,
      sound: known.sound,
      numericId: known.numericId,
      alphanumericId: known.alphanumericId,
    };
    if (known.pinHashScheme !== undefined) summary.pinHashScheme = known.pinHashScheme;
    return summary;
  }
}
