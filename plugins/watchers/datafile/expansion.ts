/**
 * Watches how far an archive expands while it is read: total bytes after gunzip, and the
 * ratio of expanded to compressed bytes read so far. A gzip bomb is stopped after a cap's
 * worth of output, because gunzip only inflates as fast as the tar parser takes its
 * output and every inflated chunk passes this meter first.
 */
import { Transform } from 'node:stream';
import type { RollcallError } from '../../../daemon/errors.js';
import { RATIO_FLOOR_BYTES, type ArchiveLimits } from './limits.js';
import { hostile, type Place } from './refusal.js';

export class ExpansionMeter {
  compressed = 0;
  expanded = 0;
  /** The first cap broken; the reader reports it rather than the stream errors it causes downstream. */
  failure: RollcallError | undefined;
  readonly #limits: Pick<ArchiveLimits, 'maxTotalBytes' | 'maxRatio'>;
  readonly #where: () => Place;

  constructor(limits: Pick<ArchiveLimits, 'maxTotalBytes' | 'maxRatio'>, where: () => Place) {
    this.#limits = limits;
    this.#where = where;
  }

  /** Sits before gunzip and counts what it is fed. */
  compressedTap(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.compressed += chunk.length;
        callback(null, chunk);
      },
    });
  }

  /** Sits after gunzip, counts what comes out, and fails the stream when a cap is broken. */
  expandedTap(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.expanded += chunk.length;
        const problem = this.problem();
        if (problem) {
          this.failure ??= problem;
          callback(problem);
          return;
        }
        callback(null, chunk);
      },
    });
  }

  problem(): RollcallError | undefined {
    const { maxTotalBytes, maxRatio } = this.#limits;
    if (this.expanded > maxTotalBytes) {
      return hostile(this.#where(), `the archive expands past maxTotalBytes (${maxTotalBytes} bytes)`, {
        expanded: this.expanded,
        compressed: this.compressed,
      });
    }
    if (this.expanded >= RATIO_FLOOR_BYTES && this.expanded > maxRatio * this.compressed) {
      const ratio = Math.round(this.expanded / Math.max(1, this.compressed));
      return hostile(
        this.#where(),
        `the archive expands ${ratio}:1 so far, above maxRatio (${maxRatio}:1); a data file of users does not compress like that (gzip bomb?)`,
        { expanded: this.expanded, compressed: this.compressed },
      );
    }
    return undefined;
  }
}
