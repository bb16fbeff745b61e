/**
 * The LevelDB directory before and after LevelDB touches it. LevelDB with
 * `createIfMissing` treats a directory without `CURRENT` as a new database and then deletes
 * every table and log the new one does not list: one lost file would wipe the site. So a
 * database is created only in a directory that holds no LevelDB files and no identity
 * marker; anything else without `CURRENT` is refused (ROLLCALL_ERR_STORE_DAMAGED) and left
 * exactly as it is, for `rollcall store repair`.
 *
 * The directory is private (0700) and the files in it are made 0600: they hold PIN hashes
 * and templates, and outside systemd the process umask would leave them world-readable.
 */
import { chmod, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RollcallError } from '../../../daemon/errors.js';

/** Written beside the LevelDB files when the store is created; its presence means "this held a rollcall store". */
export const markerName = 'ROLLCALL-STORE';

const privateDir = 0o700;

export interface StoreDirectory {
  /** No LevelDB here yet: the one case where a database may be created. */
  fresh: boolean;
  /** The identity marker is present. */
  marked: boolean;
}

/** The LevelDB files in a directory, by kind. `LOG` and `LOG.old` are LevelDB's text logs, not data. */
export function levelFiles(names: string[]): { current: boolean; manifests: string[]; tables: string[]; logs: string[] } {
  return {
    current: names.includes('CURRENT'),
    manifests: names.filter((n) => /^MANIFEST-\d+$/.test(n)),
    tables: names.filter((n) => /^\d+\.(ldb|sst)$/.test(n)),
    logs: names.filter((n) => /^\d+\.log$/.test(n)),
  };
}

export function damagedError(location: string, message: string, detail: Record<string, unknown> = {}, cause?: unknown): RollcallError {
  return new RollcallError(
    'ROLLCALL_ERR_STORE_DAMAGED',
    `The LevelDB store at ${location} ${message}. Nothing was changed or deleted. Stop rollcall and run \`rollcall store repair\` (see plugins/storage/level/README.md).`,
    { cause, detail: { location, ...detail } },
  );
}

/** Creates the directory (0700) when missing, tightens it, and decides whether a database may be created in it. */
export async function prepareStoreDirectory(location: string): Promise<StoreDirectory> {
  await mkdir(location, { recursive: true, mode: privateDir });
  await chmod(location, privateDir);
  const names = await readdir(location);
  const files = levelFiles(names);
  const marked = names.includes(markerName);
  const data = files.manifests.length + files.tables.length + files.logs.length;
  if (!files.current && (marked || data > 0)) {
    throw damagedError(
      location,
      `is missing its CURRENT file (it holds ${files.tables.length} table file(s), ${files.logs.length} log(s), ${files.manifests.length} manifest(s)${marked ? ' and the rollcall marker' : ''}); a new database is not created over it`,
      { missing: 'CURRENT', tables: files.tables.length, logs: files.logs.length, manifests: files.manifests },
    );
  }
  return { fresh: !files.current, marked };
}

export async function writeMarker(location: string, format: number): Promise<void> {
  const text = `${JSON.stringify({ store: 'rollcall/level', format, createdAt: new Date().toISOString() })}\n`;
  await writeFile(join(location, markerName), text, { mode: 0o600, flag: 'w' });
}

/** Takes group and other permissions off every file in the directory (LevelDB creates them with the process umask). */
export async function tightenFiles(location: string): Promise<void> {
  for (const name of await readdir(location)) {
    const path = join(location, name);
    const stat = await lstat(path).catch(() => undefined);
    if (stat?.isFile() && (stat.mode & 0o077) !== 0) await chmod(path, stat.mode & 0o700).catch(() => undefined);
  }
}
