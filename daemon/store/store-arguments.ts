/**
 * Argument checks shared by every backend (the "public methods check" half of
 * AbstractStore). The store does not validate users against device rules; it only refuses
 * what it could not store or index faithfully.
 */
import type { EventQuery, Fence, ImportClaim, ImportRecord, Mutation } from '../plugins/api.js';
import { invalidArgumentError } from './store-errors.js';

const mutationTypes: ReadonlySet<string> = new Set<Mutation['type']>([
  'putUser',
  'deleteUser',
  'setCursor',
  'putDevice',
  'deleteDevice',
  'putImport',
  'appendEvent',
]);

const originKinds: ReadonlySet<string> = new Set(['server', 'device', 'import', 'admin']);
const importStates: ReadonlySet<string> = new Set<ImportRecord['state']>(['running', 'done', 'failed']);

// A lone surrogate cannot be written as UTF-8, so such an ID would not survive a round trip.
const loneSurrogate = /\p{Surrogate}/u;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkUserId(value: unknown, name = 'userId'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidArgumentError(`${name} must be a non-empty string`, { argument: name });
  }
  if (loneSurrogate.test(value)) {
    throw invalidArgumentError(`${name} is not well-formed Unicode`, { argument: name });
  }
}

/** Device IDs are G-SDK uint32 values; any non-negative safe integer is accepted. */
export function checkDeviceId(value: unknown, name = 'deviceId'): asserts value is number {
  if (!isCount(value)) {
    throw invalidArgumentError(`${name} must be a non-negative integer`, { argument: name });
  }
}

export function checkSeq(value: unknown, name = 'seq'): asserts value is number {
  if (!isCount(value)) {
    throw invalidArgumentError(`${name} must be a non-negative integer`, { argument: name });
  }
}

/** An optional page size: a non-negative integer, or absent for "no limit". */
export function checkLimit(value: unknown, name = 'limit'): asserts value is number | undefined {
  if (value !== undefined && !isCount(value)) {
    throw invalidArgumentError(`${name} must be a non-negative integer`, { argument: name });
  }
}

/** A Unix-ms bound used in a comparison (it may fall between whole milliseconds). */
export function checkTime(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidArgumentError(`${name} must be a finite number (Unix ms)`, { argument: name });
  }
}

export function checkImportHash(value: unknown, name = 'hash'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidArgumentError(`${name} must be a non-empty string`, { argument: name });
  }
}

export function checkImportState(value: unknown, name = 'state'): asserts value is ImportRecord['state'] {
  if (typeof value !== 'string' || !importStates.has(value)) {
    throw invalidArgumentError(`${name} must be one of running, done, failed`, { argument: name });
  }
}

export function checkOptions(value: unknown, name = 'options'): asserts value is Record<string, unknown> | undefined {
  if (value !== undefined && !isPlainObject(value)) {
    throw invalidArgumentError(`${name} must be an object`, { argument: name });
  }
}

export function checkScanOptions(value: unknown): { after: string | undefined; limit: number | undefined } {
  checkOptions(value);
  const after = value?.['after'];
  if (after !== undefined) checkUserId(after, 'after');
  const limit = value?.['limit'];
  checkLimit(limit);
  return { after, limit };
}

/** Checks a query and returns a copy holding only the keys the store knows. */
export function checkEventQuery(value: unknown): EventQuery {
  checkOptions(value, 'query');
  const query: EventQuery = {};
  if (value === undefined) return query;
  const { since, until, userId, deviceId, kind, afterId, limit } = value;
  if (since !== undefined) {
    checkTime(since, 'query.since');
    query.since = since;
  }
  if (until !== undefined) {
    checkTime(until, 'query.until');
    query.until = until;
  }
  if (userId !== undefined) {
    checkUserId(userId, 'query.userId');
    query.userId = userId;
  }
  if (deviceId !== undefined) {
    checkDeviceId(deviceId, 'query.deviceId');
    query.deviceId = deviceId;
  }
  if (kind !== undefined) {
    if (typeof kind !== 'string' || kind.length === 0) {
      throw invalidArgumentError('query.kind must be a non-empty string', { argument: 'query.kind' });
    }
    query.kind = kind;
  }
  if (afterId !== undefined) {
    checkSeq(afterId, 'query.afterId');
    query.afterId = afterId;
  }
  if (limit !== undefined) {
    checkLimit(limit, 'query.limit');
    query.limit = limit;
  }
  return query;
}

/** Checks the shape of every mutation of a commit; the first fault rejects the whole commit. */
export function checkMutations(value: unknown): asserts value is Mutation[] {
  if (!Array.isArray(value)) {
    throw invalidArgumentError('mutations must be an array', { argument: 'mutations' });
  }
  value.forEach((mutation: unknown, index) => checkMutation(mutation, `mutations[${index}]`));
}

function checkMutation(m: unknown, at: string): void {
  if (!isPlainObject(m) || typeof m['type'] !== 'string' || !mutationTypes.has(m['type'])) {
    throw invalidArgumentError(`${at} has an unknown type`, {
      argument: at,
      type: isPlainObject(m) ? String(m['type']) : typeof m,
    });
  }
  switch (m['type'] as Mutation['type']) {
    case 'putUser': {
      const user = m['user'];
      if (!isPlainObject(user)) throw invalidArgumentError(`${at}.user must be an object`, { argument: at });
      checkUserId(user['id'], `${at}.user.id`);
      checkOrigin(m['origin'], `${at}.origin`);
      return;
    }
    case 'deleteUser':
      checkUserId(m['userId'], `${at}.userId`);
      checkOrigin(m['origin'], `${at}.origin`);
      return;
    case 'setCursor':
      checkDeviceId(m['deviceId'], `${at}.deviceId`);
      checkSeq(m['seq'], `${at}.seq`);
      return;
    case 'putDevice': {
      const device = m['device'];
      if (!isPlainObject(device)) throw invalidArgumentError(`${at}.device must be an object`, { argument: at });
      checkDeviceId(device['id'], `${at}.device.id`);
      return;
    }
    case 'deleteDevice':
      checkDeviceId(m['deviceId'], `${at}.deviceId`);
      return;
    case 'putImport': {
      const record = m['record'];
      if (!isPlainObject(record)) throw invalidArgumentError(`${at}.record must be an object`, { argument: at });
      checkImportHash(record['hash'], `${at}.record.hash`);
      checkImportState(record['state'], `${at}.record.state`);
      checkSeq(record['checkpoint'], `${at}.record.checkpoint`);
      return;
    }
    case 'appendEvent':
      checkNewEvent(m['event'], `${at}.event`);
      return;
  }
}

function checkOrigin(origin: unknown, at: string): void {
  if (!isPlainObject(origin) || typeof origin['kind'] !== 'string' || !originKinds.has(origin['kind'])) {
    throw invalidArgumentError(`${at} must be an origin (server, device, import or admin)`, { argument: at });
  }
  if (origin['kind'] === 'device') checkDeviceId(origin['deviceId'], `${at}.deviceId`);
  if (origin['kind'] === 'import' && (typeof origin['file'] !== 'string' || typeof origin['format'] !== 'string')) {
    throw invalidArgumentError(`${at} of kind import needs file and format`, { argument: at });
  }
}

function checkNewEvent(event: unknown, at: string): void {
  if (!isPlainObject(event)) throw invalidArgumentError(`${at} must be an object`, { argument: at });
  if (typeof event['kind'] !== 'string' || event['kind'].length === 0) {
    throw invalidArgumentError(`${at}.kind must be a non-empty string`, { argument: `${at}.kind` });
  }
  if (typeof event['message'] !== 'string') {
    throw invalidArgumentError(`${at}.message must be a string`, { argument: `${at}.message` });
  }
  // Whole milliseconds: the time index is keyed by them.
  if (event['at'] !== undefined && !isCount(event['at'])) {
    throw invalidArgumentError(`${at}.at must be a non-negative integer (Unix ms)`, { argument: `${at}.at` });
  }
  if (event['userId'] !== undefined) checkUserId(event['userId'], `${at}.userId`);
  if (event['deviceId'] !== undefined) checkDeviceId(event['deviceId'], `${at}.deviceId`);
  if (event['detail'] !== undefined && !isPlainObject(event['detail'])) {
    throw invalidArgumentError(`${at}.detail must be an object`, { argument: `${at}.detail` });
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** The fences of a commit's options (lease-api.ts), checked; [] without any. */
export function checkFences(options: unknown): Fence[] {
  checkOptions(options);
  const fences = (options as { fences?: unknown } | undefined)?.fences;
  if (fences === undefined) return [];
  if (!Array.isArray(fences)) throw invalidArgumentError('options.fences must be an array', { argument: 'options.fences' });
  return fences.map((fence: unknown, index) => {
    const f = fence as Partial<Fence> | null;
    if (typeof f !== 'object' || f === null) throw invalidArgumentError(`options.fences[${index}] must be an object`, { argument: `options.fences[${index}]` });
    checkDeviceId(f.deviceId, `options.fences[${index}].deviceId`);
    if (typeof f.owner !== 'string' || f.owner.length === 0) throw invalidArgumentError(`options.fences[${index}].owner must be a non-empty string`, { argument: `options.fences[${index}].owner` });
    if (!Number.isSafeInteger(f.epoch) || (f.epoch as number) < 0) throw invalidArgumentError(`options.fences[${index}].epoch must be a non-negative integer`, { argument: `options.fences[${index}].epoch` });
    return { deviceId: f.deviceId, owner: f.owner, epoch: f.epoch as number };
  });
}

/** The import claim of a commit's options (lease-api.ts), checked; undefined without one. */
/** CommitOptions.after: a promise (an earlier commit's), or nothing. */
export function checkAfter(options: unknown): PromiseLike<unknown> | undefined {
  const after = (options as { after?: unknown } | undefined)?.after;
  if (after === undefined) return undefined;
  if (typeof (after as { then?: unknown } | null)?.then !== 'function') throw invalidArgumentError('options.after must be a promise (an earlier commit of this store)', { argument: 'options.after' });
  return after as PromiseLike<unknown>;
}

export function checkClaim(options: unknown): ImportClaim | undefined {
  const claim = (options as { claim?: unknown } | undefined)?.claim;
  if (claim === undefined) return undefined;
  if (!isPlainObject(claim)) throw invalidArgumentError('options.claim must be an object', { argument: 'options.claim' });
  const c = claim as Partial<ImportClaim>;
  checkImportHash(c.hash, 'options.claim.hash');
  if (c.expect !== undefined) {
    if (!isPlainObject(c.expect)) throw invalidArgumentError('options.claim.expect must be an object', { argument: 'options.claim.expect' });
    checkImportState(c.expect.state, 'options.claim.expect.state');
    checkTime(c.expect.startedAt, 'options.claim.expect.startedAt');
  }
  return { hash: c.hash as string, expect: c.expect === undefined ? undefined : { ...c.expect } };
}
