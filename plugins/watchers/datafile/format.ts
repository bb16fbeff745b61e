/**
 * rollcall's data file, version 1: the layout facts shared by the reader and the writer.
 * FORMAT.md in this folder is the specification; this file is its machine-readable half.
 * BioStar's own .tgz layout is not public, so this is rollcall's own format and makes no
 * claim of byte compatibility with Suprema's files.
 */
import { z } from 'zod';

export const FORMAT_NAME = 'rollcall-datafile';
export const FORMAT_VERSION = 1;

/** finger.TemplateFormat, by name (0 SUPREMA, 1 ISO, 2 ANSI on the wire). */
export const TEMPLATE_FORMATS = ['SUPREMA', 'ISO', 'ANSI'] as const;
export type TemplateFormat = (typeof TEMPLATE_FORMATS)[number];

export const HEADER_MEMBER = 'header.json';
export const MANIFEST_MEMBER = 'manifest.json';

/** Users members are numbered from 1 with five digits, so at most this many. */
export const MAX_USER_MEMBERS = 99_999;

/** header.json is small by nature; anything bigger is not a v1 header. */
export const HEADER_MAX_BYTES = 64 * 1024;
/** A users member never exceeds this; writers cut members earlier. */
export const MEMBER_MAX_BYTES = 64 * 1024 * 1024;
/** One record (with its LF). The gateway's default message limit: a bigger user cannot be enrolled anyway. */
export const LINE_MAX_BYTES = 4 * 1024 * 1024;
/** Extended (pax) header records that a reader accepts; v1 writers write none. */
export const PAX_MAX_BYTES = 64 * 1024;
/** Size of one manifest.json members entry, generously; the manifest's cap grows with the entry cap. */
export const MANIFEST_BYTES_PER_MEMBER = 256;

/** The names a drop folder hands to this format. BioStar-made files are taken in only to be refused clearly. */
export const DATAFILE_PATTERNS = ['rollcall_*.tgz', 'BioStar2_*.tgz', 'BioStarX_*.tgz'] as const;

const USER_MEMBER = /^users-(\d{5})\.jsonl$/;

export function userMemberName(index: number): string {
  return `users-${String(index).padStart(5, '0')}.jsonl`;
}

/** The member's 1-based number, or undefined when the name is not a users member's. */
export function userMemberIndex(name: string): number | undefined {
  const match = USER_MEMBER.exec(name);
  if (!match) return undefined;
  const index = Number(match[1]);
  return index >= 1 ? index : undefined;
}

export function manifestMaxBytes(maxEntries: number): number {
  return HEADER_MAX_BYTES + MANIFEST_BYTES_PER_MEMBER * maxEntries;
}

/** `rollcall_YYYYMMDD_HHMMSS.tgz`, in UTC so that names sort alike on every server. */
export function dataFileName(createdAt: Date): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const day = `${pad(createdAt.getUTCFullYear(), 4)}${pad(createdAt.getUTCMonth() + 1)}${pad(createdAt.getUTCDate())}`;
  const time = `${pad(createdAt.getUTCHours())}${pad(createdAt.getUTCMinutes())}${pad(createdAt.getUTCSeconds())}`;
  return `rollcall_${day}_${time}.tgz`;
}

const sourceSchema = z.object({
  product: z.string().min(1).max(64),
  version: z.string().max(64),
  site: z.string().max(256).optional(),
});

/** header.json: what a reader needs before the first user, to refuse a file early. */
export const headerSchema = z.object({
  format: z.literal(FORMAT_NAME),
  formatVersion: z.literal(FORMAT_VERSION),
  createdAt: z.iso.datetime({ offset: true }),
  source: sourceSchema,
  templateFormat: z.enum(TEMPLATE_FORMATS),
});
export type DataFileHeader = z.infer<typeof headerSchema>;

export const memberSummarySchema = z.object({
  name: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits'),
  bytes: z.number().int().min(1),
  users: z.number().int().min(1),
});
export type MemberSummary = z.infer<typeof memberSummarySchema>;

/** manifest.json: the header's fields again, plus what only the end of writing knows. */
export const manifestSchema = headerSchema.extend({
  userCount: z.number().int().min(0),
  members: z.array(memberSummarySchema),
});
export type DataFileManifest = z.infer<typeof manifestSchema>;
