/**
 * One line of a users member: a user in daemon/model/user.ts's shape, binary values in
 * base64. The reader checks each record's shape and the per-value bounds the model
 * documents; counts per device (8 cards, 10 fingers, ...) are the model's rules and are
 * checked where users are committed. Unknown fields are dropped, so a later writer may add
 * fields without a new format version.
 */
import { z } from 'zod';
import type { Face, User } from '../../../daemon/model/user.js';

const uint32 = z.number().int().min(0).max(0xffff_ffff);
const byte = z.number().int().min(0).max(0xff);

function decodedBytes(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}

/** Base64 of at most `max` bytes (exactly `max` when `exact`). */
function binary(max: number, exact = false) {
  return z
    .base64()
    .refine((value) => (exact ? decodedBytes(value) === max : decodedBytes(value) <= max), {
      message: exact ? `expected exactly ${max} bytes` : `expected at most ${max} bytes`,
    });
}

const cardSchema = z.object({ type: byte, data: binary(32) });

const fingerSchema = z.object({
  index: uint32,
  flag: uint32,
  templates: z.array(binary(384)).max(2),
});

const faceSchema = z.object({
  index: uint32,
  flag: uint32,
  templates: z.array(z.base64()),
  imageData: z.base64().optional(),
  irTemplates: z.array(z.base64()).optional(),
  irImageData: z.base64().optional(),
});

const authSchema = z.object({
  biometric: byte,
  card: byte,
  id: byte,
  faceExt: byte,
  fingerExt: byte,
  cardExt: byte,
  idExt: byte,
});

export const userRecordSchema = z.object({
  id: z
    .string()
    .min(1)
    .refine((id) => Buffer.byteLength(id) <= 32, { message: 'expected at most 32 bytes' })
    .refine((id) => id !== '0', { message: 'user ID 0 is not allowed' }),
  name: z.string().refine((name) => [...name].length <= 48, { message: 'expected at most 48 characters' }),
  disabled: z.boolean(),
  startTime: uint32,
  endTime: uint32,
  auth: authSchema,
  securityLevel: z.number().int().min(0).max(5),
  cards: z.array(cardSchema),
  fingers: z.array(fingerSchema),
  faces: z.array(faceSchema),
  accessGroups: z.array(uint32),
  jobCodes: z.array(z.object({ code: uint32, label: z.string() })),
  pinHash: binary(32, true).optional(),
  /** The gateway hash scheme that made pinHash (daemon/model/pin-provenance.ts); absent: unknown. */
  pinHashScheme: z.string().regex(/^[0-9a-z-]{1,64}$/).optional(),
  photo: binary(16 * 1024).optional(),
  department: z.string().optional(),
  title: z.string().optional(),
  phone: z.string().optional(),
  email: z.string().optional(),
  userGroup: z.string().optional(),
  custom: z.record(z.string(), z.string()).optional(),
});

export type RecordCheck = { ok: true; user: User } | { ok: false; reason: string; userId?: string };

/** The ID a malformed record claims, for the report, if it names one. */
function claimedId(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' && id.length > 0 ? id.slice(0, 64) : undefined;
}

/**
 * Checks one parsed record. The reason names fields and rules, never values: a record
 * carries templates, card data and a PIN hash, none of which may reach a report or a log.
 */
export function checkUserRecord(value: unknown): RecordCheck {
  const result = userRecordSchema.safeParse(value);
  if (result.success) {
    const user: User = result.data;
    return { ok: true, user };
  }
  const reasons = result.error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(record)';
    return `${path}: ${issue.message}`;
  });
  const more = result.error.issues.length > 5 ? ` (and ${result.error.issues.length - 5} more)` : '';
  const userId = claimedId(value);
  return { ok: false, reason: `${reasons.join('; ')}${more}`, ...(userId === undefined ? {} : { userId }) };
}

function faceRecord(face: Face): Face {
  return {
    index: face.index,
    flag: face.flag,
    templates: face.templates,
    ...(face.imageData === undefined ? {} : { imageData: face.imageData }),
    ...(face.irTemplates === undefined ? {} : { irTemplates: face.irTemplates }),
    ...(face.irImageData === undefined ? {} : { irImageData: face.irImageData }),
  };
}

/**
 * The record written for a user: the model's fields in a fixed order and nothing else,
 * so files are reproducible and no field a caller happened to attach leaks into a file.
 */
export function toUserRecord(user: User): User {
  const record: User = {
    id: user.id,
    name: user.name,
    disabled: user.disabled,
    startTime: user.startTime,
    endTime: user.endTime,
    auth: {
      biometric: user.auth.biometric,
      card: user.auth.card,
      id: user.auth.id,
      faceExt: user.auth.faceExt,
      fingerExt: user.auth.fingerExt,
      cardExt: user.auth.cardExt,
      idExt: user.auth.idExt,
    },
    securityLevel: user.securityLevel,
    cards: user.cards.map((card) => ({ type: card.type, data: card.data })),
    fingers: user.fingers.map((finger) => ({ index: finger.index, flag: finger.flag, templates: finger.templates })),
    faces: user.faces.map(faceRecord),
    accessGroups: user.accessGroups,
    jobCodes: user.jobCodes.map((job) => ({ code: job.code, label: job.label })),
  };
  if (user.pinHash !== undefined) record.pinHash = user.pinHash;
  if (user.pinHash !== undefined && user.pinHashScheme !== undefined) record.pinHashScheme = user.pinHashScheme;
  if (user.photo !== undefined) record.photo = user.photo;
  if (user.department !== undefined) record.department = user.department;
  if (user.title !== undefined) record.title = user.title;
  if (user.phone !== undefined) record.phone = user.phone;
  if (user.email !== undefined) record.email = user.email;
  if (user.userGroup !== undefined) record.userGroup = user.userGroup;
  if (user.custom !== undefined) record.custom = user.custom;
  return record;
}
