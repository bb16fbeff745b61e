/**
 * File names in the drop folder: which names are taken at all, which watcher takes a
 * name, and the names the host gives the files it writes. Pure: no I/O.
 */
import type { WatcherInstance } from '../plugins/api.js';

/**
 * Names that are never taken: hidden files (the host's own temporary files, editors'
 * `.~lock.NAME#`, rsync's `.NAME.XXXXXX`) and names copy tools and editors give a file
 * while it is still being written.
 */
const TEMPORARY = [/^\./, /^~\$/, /~$/, /\.(partial|part|tmp|temp|crdownload|download|filepart|swp)$/i];

export function isTemporaryName(name: string): boolean {
  return TEMPORARY.some((pattern) => pattern.test(name));
}

/**
 * A watcher's file pattern as a regular expression: `*` is any run of characters, `?` one
 * character, everything else literal. Case-sensitive, as the watchers list both cases
 * (`*.csv`, `*.CSV`) when they mean both.
 */
export function patternRegExp(pattern: string): RegExp {
  let source = '';
  for (const char of pattern) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** The first watcher, in the given order, one of whose patterns matches `name`. */
export function watcherFor<W extends Pick<WatcherInstance, 'patterns'>>(name: string, watchers: readonly W[]): W | undefined {
  return watchers.find((watcher) => watcher.patterns.some((pattern) => patternRegExp(pattern).test(name)));
}

/** "csv: *.csv, *.CSV; datafile: rollcall_*.tgz" for messages about a name no watcher takes. */
export function describePatterns(watchers: readonly Pick<WatcherInstance, 'patterns' | 'format'>[]): string {
  if (watchers.length === 0) return 'no watcher is running';
  return watchers.map((watcher) => `${watcher.format}: ${watcher.patterns.join(', ')}`).join('; ');
}

/** `NAME`, then `STEM_2.EXT`, `STEM_3.EXT`, … : the `attempt`-th candidate for a free name. */
export function numberedName(name: string, attempt: number): string {
  if (attempt <= 1) return name;
  // The number goes before the extension (`.tar.gz` counts as one), so the name still
  // matches its watcher's pattern; a name that is only an extension (`.csv`) has none.
  const extension = /(\.tar)?\.[^.]*$/i.exec(name.slice(1));
  const cut = extension ? extension.index + 1 : name.length;
  return `${name.slice(0, cut)}_${attempt}${name.slice(cut)}`;
}

/** YYYY-MM-DD of `at` in the server's local time: the folder of done/ a file finished in. */
export function dayFolder(at: Date): string {
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

/**
 * `rollcall_YYYYMMDD_HHMMSS.EXT` in UTC (so names sort alike on every server), for a
 * watcher that does not name its exports itself; EXT comes from its first pattern.
 */
export function defaultExportName(now: Date, watcher: Pick<WatcherInstance, 'patterns' | 'format'>): string {
  const stamp =
    `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}_` +
    `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  const extension = /\.([A-Za-z0-9]+)$/.exec(watcher.patterns[0] ?? '')?.[1]?.toLowerCase() ?? watcher.format;
  return `rollcall_${stamp}.${extension}`;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
