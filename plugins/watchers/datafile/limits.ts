/**
 * The caps a reader holds an archive to. The defaults let through a v1 file of 500,000
 * users with photos and templates and stop everything else early: every cap is checked as
 * the bytes arrive, so a hostile archive costs at most a cap's worth of work, never its
 * full size, and memory stays at one record plus stream buffers.
 */
import { LINE_MAX_BYTES, MEMBER_MAX_BYTES } from './format.js';

export interface ArchiveLimits {
  /** Tar entries (header, users members, manifest). */
  maxEntries: number;
  /** Bytes of one entry, as its tar header declares it. */
  maxEntryBytes: number;
  /** Bytes of the whole tar stream after gunzip. */
  maxTotalBytes: number;
  /** Expanded bytes per compressed byte read so far; checked once 1 MiB has expanded. */
  maxRatio: number;
  /** Bytes of one record line, LF included. */
  maxLineBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  // 500,000 users in members of >= 2,000 users need 250; ample room for smaller members.
  maxEntries: 4096,
  maxEntryBytes: MEMBER_MAX_BYTES,
  // 500,000 users x 128 KiB (photo, ten fingers, faces): a file past this is not one site.
  maxTotalBytes: 64 * 1024 * 1024 * 1024,
  // Measured: ~1.3:1 with templates and photos, ~44:1 for users with only ID and name,
  // ~84:1 for users with only an ID (gzip -9); a gzip bomb of zeros runs at ~1,000:1.
  maxRatio: 200,
  maxLineBytes: LINE_MAX_BYTES,
});

/** Expanded bytes below which the ratio is not judged: tar padding alone compresses ~100:1. */
export const RATIO_FLOOR_BYTES = 1024 * 1024;
