/**
 * One batch of imported records against the stored users: merge each row in file order
 * (a user named twice in a batch gets the second row on top of the first), check the
 * merged user against the device rules, and say which users to commit and which rows
 * failed. Pure: the stored users come in, nothing is read or written here.
 */
import { isRollcallError } from '../errors.js';
import { applyImportPatch, type ImportMergeOptions } from '../merge/import-merge.js';
import type { User } from '../model/user.js';
import { formatIssues, validateUser } from '../model/validate.js';
import type { IngestRecord, IngestRejection } from '../plugins/api.js';

export interface BatchOptions {
  merge: ImportMergeOptions;
  /** The site takes alphanumeric user IDs; otherwise IDs must be numbers. */
  alphanumericIds: boolean;
}

export interface BatchOutcome {
  /** Users to commit, each once, with the value of its last row in the batch. */
  users: User[];
  /** Rows that created or changed a user. */
  imported: number;
  /** Rows equal to the stored user, or skipped under preserve. */
  unchanged: number;
  /** Rows that failed, in batch order. */
  rejections: IngestRejection[];
}

/**
 * `stored` holds the users as stored before the batch, by ID (absent: no such user).
 * `failed` holds rows that already failed before the merge (a PIN the gateway could not
 * hash), with their reason; their patch is not applied.
 */
export function mergeBatch(
  records: readonly IngestRecord[],
  stored: ReadonlyMap<string, User | undefined>,
  failed: ReadonlyMap<IngestRecord, string>,
  options: BatchOptions,
): BatchOutcome {
  const current = new Map(stored);
  const changed = new Set<string>();
  const outcome: BatchOutcome = { users: [], imported: 0, unchanged: 0, rejections: [] };
  for (const record of records) {
    const early = failed.get(record);
    if (early !== undefined) {
      outcome.rejections.push({ row: record.row, raw: record.raw, reason: early });
      continue;
    }
    const { id } = record.patch;
    let merged: ReturnType<typeof applyImportPatch>;
    try {
      merged = applyImportPatch(current.get(id), record.patch, options.merge);
    } catch (error) {
      // The merge refuses a patch it cannot apply; that row fails, the batch goes on.
      if (!isRollcallError(error)) throw error;
      outcome.rejections.push({ row: record.row, raw: record.raw, reason: error.message });
      continue;
    }
    if ('skipped' in merged || merged.changed.length === 0) {
      outcome.unchanged++;
      continue;
    }
    const issues = validateUser(merged.user, undefined, { alphanumericIds: options.alphanumericIds });
    if (issues.length > 0) {
      outcome.rejections.push({ row: record.row, raw: record.raw, reason: formatIssues(issues) });
      continue;
    }
    current.set(id, merged.user);
    changed.add(id);
    outcome.imported++;
  }
  outcome.users = [...changed].map((id) => current.get(id)!);
  return outcome;
}
