/**
 * When a file has rejected too many rows to go on (`spool.rejects`). A file that is mostly
 * errors (a wrong delimiter, a shifted export, a hostile file of millions of one-cell rows)
 * costs work, disk and an error CSV nobody will read past its first lines, for every row.
 * It is refused once it passes either limit, as soon as it does, and the error CSV keeps
 * only its first rejected rows; the report says how many more there were. Pure.
 */

export interface RejectLimits {
  /** More rejected rows than this refuses the file. */
  maxRows: number;
  /** More than this share of the rows read rejected refuses the file, once `minRows` were read. */
  maxShare: number;
  minRows: number;
  /** Rejected rows kept in NAME.errors.csv: the first ones, in file order. */
  errorCsvRows: number;
}

export const DEFAULT_REJECT_LIMITS: Readonly<RejectLimits> = Object.freeze({ maxRows: 10_000, maxShare: 0.5, minRows: 1000, errorCsvRows: 1000 });

/**
 * The reason to refuse a file that has `failed` rejected rows out of `handled` rows read,
 * or undefined while it is within the limits.
 */
export function tooManyRejections(failed: number, handled: number, limits: RejectLimits): string | undefined {
  if (failed > limits.maxRows) {
    return `${failed} rows were rejected, more than spool.rejects.maxRows (${limits.maxRows}); the file was refused after record ${handled}`;
  }
  if (handled >= limits.minRows && failed > handled * limits.maxShare) {
    const percent = Math.round(limits.maxShare * 1000) / 10;
    return `${failed} of the first ${handled} rows were rejected, more than spool.rejects.maxShare (${percent} %); the file was refused there`;
  }
  return undefined;
}

/** The report's note when the error CSV lists fewer rows than were rejected because of its cap. */
export function unlistedNote(failed: number, listed: number): string | undefined {
  const more = failed - listed;
  if (more <= 0) return undefined;
  return `the error CSV lists the first ${listed} rejected rows; ${more} more were rejected and are not listed (spool.rejects.errorCsvRows)`;
}
