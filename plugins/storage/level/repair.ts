/**
 * `rollcall store repair` for the LevelDB store, run while the daemon is stopped:
 *
 * 1. LevelDB's own repair (`ClassicLevel.repair`): a new manifest and CURRENT from the
 *    table and log files that are still readable; files it cannot use go to `lost/`.
 * 2. Every sealed value is checked. Broken ones are listed by key; with `dropCorrupt` they
 *    are deleted (a user's record with its feed entry), never guessed at.
 * 3. Values of a format 1 store are sealed and the store becomes format 2.
 * 4. The counters the store keeps beside the data (last seq, user count) are recomputed,
 *    since a repair that lost a table can leave them behind the data, and the user
 *    summaries are built again from the users (summary-index.ts).
 */
import { ClassicLevel } from 'classic-level';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { RollcallError } from '../../../daemon/errors.js';
import type { StoreRepairReport } from '../../../daemon/plugins/api.js';
import { numberKey, parseNumberKey } from './keys.js';
import { storeFormat } from './level-store.js';
import { BrokenSealError, isSealed, seal, unseal } from './sealed-values.js';
import { rebuildSummaries } from './summary-index.js';
import { levelFiles, markerName, tightenFiles } from './store-directory.js';
import { sealedSublevels, type Root, type UserSeq } from './tables.js';

export interface LevelRepairOptions {
  location: string;
  dropCorrupt: boolean;
}

interface BrokenValue {
  sublevel: string;
  key: string;
  reason: string;
}

const page = 1000;

export async function repairLevelStore({ location, dropCorrupt }: LevelRepairOptions): Promise<StoreRepairReport> {
  const names = await readdir(location).catch(() => undefined);
  const files = levelFiles(names ?? []);
  if (names === undefined || (!files.current && files.tables.length + files.logs.length + files.manifests.length === 0)) {
    return { ok: true, lines: [`${location}: no LevelDB here, nothing to repair`], detail: { location, repaired: false } };
  }
  await refuseIfOpen(location);
  await ClassicLevel.repair(location);
  const lost = await readdir(join(location, 'lost')).catch(() => [] as string[]);

  const db: Root = new Level<string, string>(location, { createIfMissing: false, keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    const raw = (name: string) => db.sublevel<string, string>(name, { valueEncoding: 'utf8' });
    const formatText = await raw('m').get('format');
    const marked = await access(join(location, markerName)).then(() => true, () => false);
    const format = formatText === undefined ? undefined : Number(unsealOrUndefined(formatText, true));
    const legacy = format === 1;

    const broken: BrokenValue[] = [];
    let sealed = 0;
    for (const name of sealedSublevels) {
      const sublevel = raw(name);
      let batch = db.batch();
      for await (const [key, value] of sublevel.iterator()) {
        const reason = brokenReason(name, key, value, legacy);
        if (reason !== undefined) {
          broken.push({ sublevel: name, key, reason });
          continue;
        }
        if (!isSealed(value)) {
          batch.put(key, seal(value), { sublevel });
          sealed += 1;
        }
        if (batch.length >= page) {
          await batch.write();
          batch = db.batch();
        }
      }
      await batch.write();
    }

    let dropped = 0;
    if (dropCorrupt && broken.length > 0) dropped = await drop(db, broken);

    // Values are sealed by now (a broken one left in place gets an unreadable summary).
    await rebuildSummaries(db, false);
    // A store whose format key was lost is still ours when the marker says so.
    const counters = await recount(db, format !== undefined || marked ? storeFormat : undefined);
    await tightenFiles(location);
    const remaining = broken.length - dropped;
    const lines = [
      `${location}: LevelDB repair done${lost.length > 0 ? `; ${lost.length} file(s) it could not use are in ${join(location, 'lost')}` : ''}`,
      `users: ${counters.users}, last seq: ${counters.seq}${sealed > 0 ? `, ${sealed} value(s) of a format 1 store sealed` : ''}`,
      ...broken.map((b) => `${dropCorrupt ? 'dropped' : 'corrupt'}: ${describe(b)} (${b.reason})`),
    ];
    if (remaining > 0) {
      lines.push(`${remaining} corrupt record(s) remain; the daemon refuses to serve them. Run again with --drop-corrupt to delete them (a dropped user is removed from the devices at the next check unless it is entered again).`);
    }
    return {
      ok: remaining === 0,
      lines,
      detail: { location, lost, users: counters.users, seq: counters.seq, sealed, corrupt: broken.map((b) => ({ sublevel: b.sublevel, key: b.key, reason: b.reason })), dropped },
    };
  } finally {
    await db.close();
  }
}

/** LevelDB's repair does not take the lock: a running daemon is detected by opening first. */
async function refuseIfOpen(location: string): Promise<void> {
  const probe = new ClassicLevel(location, { createIfMissing: false });
  try {
    await probe.open();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new RollcallError('ROLLCALL_ERR_STORE_CLOSED', `${location} is open in another process (the daemon?): stop it before repairing`, { detail: { location } });
    }
    return; // damaged: that is what the repair is for
  }
  await probe.close();
}

function unsealOrUndefined(value: string, legacy: boolean): string | undefined {
  try {
    return unseal(value, legacy);
  } catch {
    return undefined;
  }
}

function brokenReason(sublevel: string, key: string, value: string, legacy: boolean): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(unseal(value, legacy));
  } catch (error) {
    return error instanceof BrokenSealError ? error.message : 'the value is not JSON';
  }
  if (sublevel === 'u' && (parsed as { id?: unknown } | null)?.id !== key) return 'the record belongs to another key';
  return undefined;
}

function describe(b: BrokenValue): string {
  const kinds: Record<string, string> = { m: 'counter', u: 'user', us: 'feed index of user', f: 'feed entry', t: 'tombstone', c: 'cursor of device', d: 'device', i: 'import', e: 'event' };
  const numbered = ['f', 't', 'c', 'd', 'e'].includes(b.sublevel);
  return `${kinds[b.sublevel] ?? b.sublevel} ${numbered ? parseNumberKey(b.key) : JSON.stringify(b.key)}`;
}

async function drop(db: Root, broken: BrokenValue[]): Promise<number> {
  const batch = db.batch();
  const userSeq = db.sublevel<string, string>('us', { valueEncoding: 'utf8' });
  for (const b of broken) {
    const sublevel = db.sublevel<string, string>(b.sublevel, { valueEncoding: 'utf8' });
    batch.del(b.key, { sublevel });
    if (b.sublevel !== 'u') continue;
    // The user goes whole: its feed entry too, so the count and the feed agree.
    const entry = await userSeq.get(b.key);
    const parsed = entry === undefined ? undefined : unsealOrUndefined(entry, true);
    if (parsed !== undefined) batch.del(numberKey((JSON.parse(parsed) as UserSeq).seq), { sublevel: db.sublevel('f', { valueEncoding: 'utf8' }) });
    batch.del(b.key, { sublevel: userSeq });
  }
  await batch.write();
  return broken.length;
}

/** The last seq and the user count, from the data itself. */
async function recount(db: Root, format: number | undefined): Promise<{ users: number; seq: number }> {
  const meta = db.sublevel<string, string>('m', { valueEncoding: 'utf8' });
  let users = 0;
  for await (const _ of db.sublevel('u', { valueEncoding: 'utf8' }).keys()) users += 1;
  const readNumber = async (key: string): Promise<number> => {
    const text = await meta.get(key);
    const value = text === undefined ? undefined : unsealOrUndefined(text, true);
    return value === undefined ? 0 : Number(value);
  };
  // Pruned tombstones are below the horizon: the seq is at least horizon - 1.
  let seq = Math.max(await readNumber('seq'), (await readNumber('horizon')) - 1);
  const [lastFeed] = await db.sublevel('f', { valueEncoding: 'utf8' }).keys({ reverse: true, limit: 1 }).all();
  if (lastFeed !== undefined) seq = Math.max(seq, parseNumberKey(lastFeed));
  const batch = db.batch();
  batch.put('users', seal(JSON.stringify(users)), { sublevel: meta });
  batch.put('seq', seal(JSON.stringify(seq)), { sublevel: meta });
  if (format !== undefined) batch.put('format', seal(JSON.stringify(storeFormat)), { sublevel: meta });
  await batch.write();
  return { users, seq };
}
