/**
 * When a dropped file is complete. A copy over SMB or scp shows up in incoming/ at once and
 * grows for a while; nothing in the folder says when the writer is done. A file is taken
 * once its size and modification time have not changed for `stableMs`. Pure: the caller
 * polls `stat` and passes the clock.
 */

export interface FileStat {
  size: number;
  mtimeMs: number;
}

interface Candidate extends FileStat {
  /** Order of first sight: files that settle in the same poll are taken in this order. */
  order: number;
  /** When size and mtime were last seen to change (or first seen). */
  since: number;
}

export class SettlingFiles {
  readonly #stableMs: number;
  readonly #candidates = new Map<string, Candidate>();
  #seen = 0;

  constructor(stableMs: number) {
    this.#stableMs = stableMs;
  }

  get size(): number {
    return this.#candidates.size;
  }

  has(name: string): boolean {
    return this.#candidates.has(name);
  }

  names(): string[] {
    return [...this.#candidates.keys()];
  }

  /** A file appeared or changed: (re)start its quiet period unless it is already watched. */
  observe(name: string, now: number): void {
    if (this.#candidates.has(name)) return;
    // size -1: the first poll always counts as a change, so the quiet period starts from a real stat.
    this.#candidates.set(name, { size: -1, mtimeMs: -1, order: this.#seen++, since: now });
  }

  forget(name: string): void {
    this.#candidates.delete(name);
  }

  /**
   * Takes one round of stats (undefined: the file is gone) and returns the names that have
   * been quiet for `stableMs`, in the order they were first seen. Those leave the set.
   */
  poll(stats: ReadonlyMap<string, FileStat | undefined>, now: number): string[] {
    const settled: Candidate[] = [];
    const names = new Map<Candidate, string>();
    for (const [name, stat] of stats) {
      const candidate = this.#candidates.get(name);
      if (!candidate) continue;
      if (stat === undefined) {
        this.#candidates.delete(name);
        continue;
      }
      if (stat.size !== candidate.size || stat.mtimeMs !== candidate.mtimeMs) {
        candidate.size = stat.size;
        candidate.mtimeMs = stat.mtimeMs;
        candidate.since = now;
        continue;
      }
      if (now - candidate.since >= this.#stableMs) {
        settled.push(candidate);
        names.set(candidate, name);
      }
    }
    settled.sort((a, b) => a.order - b.order);
    return settled.map((candidate) => {
      const name = names.get(candidate)!;
      this.#candidates.delete(name);
      return name;
    });
  }
}
