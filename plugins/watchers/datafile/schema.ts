/**
 * Config of the datafile watcher (`watchers.datafile`). Every key can change on reload:
 * the next file read and the next export use the new values.
 */
import { z } from 'zod';
import { MAX_USER_MEMBERS, MEMBER_MAX_BYTES, TEMPLATE_FORMATS } from './format.js';
import { DEFAULT_LIMITS } from './limits.js';
import { DEFAULT_MEMBER_USERS } from './writer.js';

const limitsSchema = z
  .strictObject({
    maxEntries: z
      .number()
      .int()
      .min(3)
      .max(MAX_USER_MEMBERS + 2)
      .default(DEFAULT_LIMITS.maxEntries)
      .describe('Tar entries a file may hold (header, users members, manifest).'),
    maxEntryBytes: z
      .number()
      .int()
      .min(1024)
      .max(MEMBER_MAX_BYTES)
      .default(DEFAULT_LIMITS.maxEntryBytes)
      .describe('Bytes one entry may declare (the format caps a users member at 64 MiB).'),
    maxTotalBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(DEFAULT_LIMITS.maxTotalBytes)
      .describe('Bytes the whole archive may expand to after gunzip (default 64 GiB: 500,000 users at 128 KiB each).'),
    maxRatio: z
      .number()
      .min(2)
      .max(10_000)
      .default(DEFAULT_LIMITS.maxRatio)
      .describe('Expanded bytes per compressed byte read so far, judged once 1 MiB has expanded; stops gzip bombs.'),
    maxLineBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(DEFAULT_LIMITS.maxLineBytes)
      .describe('Bytes of one user record, line feed included (default 4 MiB, the gateway\'s message limit).'),
  })
  .prefault({})
  .describe('Caps a file is held to while it is read; a file that breaks one is refused as a whole (ROLLCALL_ERR_ARCHIVE_HOSTILE).');

/** A daily time, as the host's export schedule reads the datafile watcher's list. */
const EXPORT_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

const exportSchema = z
  .strictObject({
    schedule: z
      .array(z.string().regex(EXPORT_TIME, 'expected HH:MM (24-hour, server local time)'))
      .default([])
      .describe('Daily times ("HH:MM", server local time) at which the host exports every user. Empty: exports only on request.'),
    dir: z
      .string()
      .min(1)
      .optional()
      .describe('Folder the scheduled exports are written to. Default: the spool\'s outgoing/.')
      .meta({ path: true }),
  })
  .prefault({})
  .describe('The data-file export (written by the host through this watcher).');

export const configSchema = z.strictObject({
  templateFormat: z
    .enum(TEMPLATE_FORMATS)
    .default('SUPREMA')
    .describe('The site\'s fingerprint template format. Files in another format are refused; exports are marked with it.'),
  site: z.string().min(1).max(256).optional().describe('The site\'s name, written into exported files (source.site).'),
  mode: z
    .enum(['preserve', 'overwrite'])
    .default('preserve')
    .describe('When a user ID already exists: preserve leaves the user untouched (the safe default), overwrite gives it the file\'s values for every field.'),
  verifyFirst: z
    .boolean()
    .default(true)
    .describe('Read each file once to check hashes and counts before importing any user, so a damaged file imports nothing.'),
  batchSize: z.number().int().min(1).max(10_000).default(500).describe('Users handed to the store per commit.'),
  membersUsers: z
    .number()
    .int()
    .min(1000)
    .max(1_000_000)
    .default(DEFAULT_MEMBER_USERS)
    .describe('Users per users member at most in exported files (members are also cut at 32 MiB).'),
  limits: limitsSchema,
  export: exportSchema,
});

export type DatafileConfig = z.infer<typeof configSchema>;
