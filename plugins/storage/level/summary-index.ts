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
import { encodeSummary, summarizeUser, type UserSummary } from '../../../daemon/model/user-summary.js';
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
