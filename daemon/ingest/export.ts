/**
 * Writing an export: every user, through the watcher's exporter, into a hidden
 * `.NAME.partial` beside the final name, flushed to disk, then renamed. A program watching
 * outgoing/ (or a person) never sees half a file: the name appears when the file is whole.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { User } from '../model/user.js';
import type { WatcherInstance } from '../plugins/api.js';
import { syncDirectory, syncFile } from './spool.js';

export type Exporter = Required<Pick<WatcherInstance, 'exportUsers'>> & Pick<WatcherInstance, 'exportHoldsSecrets'>;

/** An export's file mode: credential secrets for the daemon's user only, the rest for its group too. */
export function exportFileMode(exporter: Pick<WatcherInstance, 'exportHoldsSecrets'>): number {
  return exporter.exportHoldsSecrets === true ? 0o600 : 0o640;
}

/** Writes `users` as `dir/name` and returns how many were written. */
export async function writeExport(
  users: AsyncIterable<User>,
  watcher: Exporter,
  dir: string,
  name: string,
  signal?: AbortSignal,
): Promise<{ path: string; users: number }> {
  const path = join(dir, name);
  const partial = join(dir, `.${name}.partial`);
  // 'wx': a second export racing for the same name fails here instead of mixing bytes.
  const out = createWriteStream(partial, { flags: 'wx', mode: exportFileMode(watcher) });
  try {
    const closed = finished(out);
    // Awaited below; until then a stream error must not count as unhandled.
    closed.catch(() => undefined);
    const result = await watcher.exportUsers(users, out, signal);
    await closed;
    await syncFile(partial);
    await rename(partial, path);
    await syncDirectory(dir);
    return { path, users: result.users };
  } catch (error) {
    out.destroy();
    await rm(partial, { force: true });
    throw error;
  }
}
