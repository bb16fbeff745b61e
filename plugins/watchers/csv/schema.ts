/**
 * Config of the CSV watcher (`watchers.csv`). Every key applies on reload, from the next
 * file on; a file being read keeps the config it started with.
 */
import { z } from 'zod';
import { isTimeZone } from './dates.js';
import { EXPORT_FIELD_KEYS, FIELD_KEYS } from './fields.js';

/** An interval (`90s`, `15m`, `6h`, `1d`) or a five-field cron expression (`0 2 * * *`). */
const SCHEDULE = /^(\d+[smhd]|([\d*/,-]+\s+){4}[\d*/,-]+)$/;

export const configSchema = z.strictObject({
  startRow: z
    .number()
    .int()
    .min(2)
    .default(2)
    .describe('Line where data starts (BioStar\'s "Start import at row"); the row above it is the header, lines above the header are skipped.'),
  delimiter: z
    .string()
    .length(1)
    .refine((d) => d !== '"' && d !== '\r' && d !== '\n', 'the delimiter cannot be a quote or a line break')
    .default(',')
    .describe('Cell delimiter. BioStar uses a comma; spreadsheets in some locales write ";".'),
  mode: z
    .enum(['preserve', 'overwrite'])
    .default('preserve')
    .describe('When a user ID already exists: preserve leaves the user untouched (the safe default), overwrite replaces the fields the file has columns for.'),
  blankClears: z
    .boolean()
    .default(false)
    .describe('Under overwrite, whether a blank cell clears its field. Off: a blank changes nothing, and a blank csn or pin never deletes a credential.'),
  dayFirst: z
    .boolean()
    .default(false)
    .describe('Read DD/MM/YYYY dates. Off: such dates are row errors, since the order of day and month is never guessed.'),
  timeZone: z
    .string()
    .refine(isTimeZone, 'not an IANA time zone name (e.g. UTC, Europe/Amsterdam, Asia/Seoul)')
    .default('UTC')
    .describe('IANA time zone of the dates in imported and exported files (CSV dates carry no zone).'),
  remap: z
    .record(z.string().min(1), z.enum([...FIELD_KEYS, 'ignore']))
    .default({})
    .describe('Header → field key, taking priority over the automatic mapping, e.g. { "Employee No": user_id, "Badge": csn }; "ignore" leaves a column unmapped.'),
  customFields: z
    .array(z.string().trim().min(1))
    .default([])
    .describe('Exact header names of custom user fields to import and export (e.g. "Remarks"). Other unknown columns are ignored and reported.'),
  batchSize: z.number().int().min(1).max(10_000).default(500).describe('Rows handed to the store per commit.'),
  export: z
    .strictObject({
      schedule: z
        .string()
        .regex(SCHEDULE, 'expected an interval such as 6h or 1d, or a five-field cron expression such as "0 2 * * *"')
        .optional()
        .describe('When to write an export to outgoing/: an interval (90s, 15m, 6h, 1d) or a cron expression. Unset: only on request.'),
      columns: z
        .array(z.enum(EXPORT_FIELD_KEYS))
        .min(1)
        .optional()
        .describe('Columns to write, in order; custom fields follow, sorted. Default: BioStar\'s order (user_id … csn). pin is never written.'),
    })
    .prefault({})
    .describe('The CSV export.'),
});

export type CsvConfig = z.infer<typeof configSchema>;
