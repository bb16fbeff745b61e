/**
 * Checks of the fields of admin requests, before anything is read or written. Pure: each
 * function returns the checked value or throws an AdminRequestError naming the field.
 */
import { LOG_LEVELS } from '../config/schema.js';
import type { EventQuery } from '../plugins/api.js';
import type { DeviceStatus } from '../sync/engine.js';
import { invalidField, notFound } from './request-error.js';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 10_000;
/** UserHdr.ID is at most 32 bytes; a longer ID cannot name a stored user. */
export const MAX_USER_ID_BYTES = 32;
/** As BioStar and the CSV watcher: a PIN is 4 to 16 digits. */
export const PIN_DIGITS = { min: 4, max: 16 } as const;
export const MAX_FILE_NAME_BYTES = 255;
export const MAX_KIND_CHARS = 128;
export const MAX_LOCATION_CHARS = 256;
/** Users in one SetUser or DeleteUser request. */
export const MAX_USERS_PER_REQUEST = 10_000;
export const EXPORT_FORMATS = ['csv', 'datafile'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const CONTROL = /[\u0000-\u001f\u007f]/;

export function userId(field: string, id: unknown): string {
  if (typeof id !== 'string' || id === '') throw invalidField(field, 'required', 'a user ID is required');
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes > MAX_USER_ID_BYTES) throw invalidField(field, 'max-bytes', `a user ID is at most ${MAX_USER_ID_BYTES} bytes (got ${bytes})`);
  if (CONTROL.test(id)) throw invalidField(field, 'charset', 'a user ID has no control characters');
  return id;
}

/** A page size: 0 takes the default; more than `max` is refused rather than cut silently. */
export function pageLimit(field: string, value: number, fallback = DEFAULT_PAGE, max = MAX_PAGE): number {
  if (value === 0) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > max) throw invalidField(field, 'range', `must be from 1 to ${max} (got ${value})`);
  return value;
}

export function logLevel(level: string): string {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw invalidField('level', 'enum', `must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(level.slice(0, 32))})`);
  }
  return level;
}

export function exportFormat(format: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw invalidField('format', 'enum', `must be csv or datafile (got ${JSON.stringify(format.slice(0, 32))})`);
  }
  return format as ExportFormat;
}

/** A file name as dropped: no folder, nothing hidden, no control characters. */
export function fileName(name: string): string {
  if (name === '') throw invalidField('name', 'required', 'the file name is required');
  if (name.includes('/') || name.includes('\\') || name === '.' || name === '..') throw invalidField('name', 'charset', 'must be a file name without a folder');
  if (name.startsWith('.')) throw invalidField('name', 'charset', 'must not start with a dot (hidden files are not imported)');
  if (CONTROL.test(name)) throw invalidField('name', 'charset', 'must not contain control characters');
  if (Buffer.byteLength(name, 'utf8') > MAX_FILE_NAME_BYTES) throw invalidField('name', 'max-bytes', `must be at most ${MAX_FILE_NAME_BYTES} bytes`);
  return name;
}

/** A plaintext PIN; the message never shows the value. */
export function plainPin(field: string, pin: string): string {
  if (!/^\d+$/.test(pin) || pin.length < PIN_DIGITS.min || pin.length > PIN_DIGITS.max) {
    throw invalidField(field, 'pin', `must be ${PIN_DIGITS.min} to ${PIN_DIGITS.max} digits (the value is not shown)`);
  }
  return pin;
}

/**
 * The devices a device ID or a location selects; an unknown device or location is NOT_FOUND
 * rather than a command that silently does nothing.
 */
export function selectDevices(devices: readonly DeviceStatus[], filter: { deviceId?: number; location?: string }): DeviceStatus[] {
  const { deviceId, location } = filter;
  if (deviceId !== undefined) {
    if (!Number.isInteger(deviceId) || deviceId < 1) throw invalidField('deviceId', 'range', `must be a device ID from 1 (got ${deviceId})`);
    if (!devices.some((d) => d.id === deviceId)) {
      throw notFound('deviceId', `no device ${deviceId} (known: ${devices.map((d) => d.id).join(', ') || 'none'})`);
    }
  }
  if (location !== undefined) {
    if (location === '' || location.length > MAX_LOCATION_CHARS || CONTROL.test(location)) {
      throw invalidField('location', 'charset', `must be 1 to ${MAX_LOCATION_CHARS} characters without control characters`);
    }
    if (!devices.some((d) => d.location === location)) {
      const known = [...new Set(devices.map((d) => d.location).filter((l): l is string => l !== undefined))];
      throw notFound('location', `no device has location ${JSON.stringify(location)} (known: ${known.map((l) => JSON.stringify(l)).join(', ') || 'none'})`);
    }
  }
  return devices.filter((d) => (deviceId === undefined || d.id === deviceId) && (location === undefined || d.location === location));
}

export interface EventFilter {
  sinceMs?: number;
  untilMs?: number;
  userId?: string;
  deviceId?: number;
  kind?: string;
}

/** The store query of an events request (without paging fields). */
export function eventQuery(filter: EventFilter): EventQuery {
  const query: EventQuery = {};
  if (filter.sinceMs !== undefined) query.since = timestamp('sinceMs', filter.sinceMs);
  if (filter.untilMs !== undefined) query.until = timestamp('untilMs', filter.untilMs);
  if (query.since !== undefined && query.until !== undefined && query.until <= query.since) {
    throw invalidField('untilMs', 'range', 'must be after sinceMs');
  }
  if (filter.userId !== undefined) query.userId = userId('userId', filter.userId);
  if (filter.deviceId !== undefined) {
    if (!Number.isInteger(filter.deviceId) || filter.deviceId < 1) throw invalidField('deviceId', 'range', 'must be a device ID from 1');
    query.deviceId = filter.deviceId;
  }
  if (filter.kind !== undefined) {
    if (filter.kind === '' || filter.kind.length > MAX_KIND_CHARS || CONTROL.test(filter.kind)) {
      throw invalidField('kind', 'charset', `must be 1 to ${MAX_KIND_CHARS} characters, e.g. sync. or user.update.server`);
    }
    query.kind = filter.kind;
  }
  return query;
}

function timestamp(field: string, ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) throw invalidField(field, 'range', `must be Unix milliseconds from 0 (got ${ms})`);
  return ms;
}

/** The IDs of a DeleteUser request: each checked, duplicates dropped, order kept. */
export function userIds(field: string, ids: readonly string[]): string[] {
  if (ids.length === 0) throw invalidField(field, 'required', 'at least one user ID is required');
  if (ids.length > MAX_USERS_PER_REQUEST) throw invalidField(field, 'max-count', `at most ${MAX_USERS_PER_REQUEST} users per request (got ${ids.length})`);
  return [...new Set(ids.map((id, i) => userId(`${field}[${i}]`, id)))];
}
