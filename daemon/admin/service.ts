/**
 * What each admin RPC does, in terms of the daemon's parts (AdminBackend) and the API's
 * messages. No gRPC here: server.ts adapts calls, streams and errors. Every request is
 * checked before anything is read or written (requests.ts, user-input.ts); a refused request
 * changes nothing.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { once } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { Mutation, NewEvent, Store } from '../plugins/api.js';
import { emptyUser, type User } from '../model/user.js';
import type { DeviceStatus } from '../sync/engine.js';
import { removalNeedsConfirmation } from '../sync/planner.js';
import { EventKind, EventText } from '../merge/events.js';
import type { ImportReport as DropReport } from '../ingest/types.js';
import type {
  CheckResult,
  ConfirmRequest,
  ConfirmResponse,
  DeleteUserRequest,
  DeleteUserResponse,
  DevicePlan,
  Event,
  EventsRequest,
  EventsResponse,
  ExportRequest,
  ExportUpdate,
  FollowEventsRequest,
  GetUserRequest,
  GetUserResponse,
  ImportReport,
  ImportStart,
  ImportUpdate,
  ListDevicesResponse,
  ListUsersRequest,
  ListUsersResponse,
  PlanRequest,
  PlanResponse,
  Progress,
  SetLogLevelRequest,
  SetLogLevelResponse,
  SetUserRequest,
  SetUserResponse,
  StatusResponse,
  SyncRequest,
  SyncUpdate,
  UserChange,
  VerifyRequest,
  VerifyUpdate,
} from '../../proto/gen/rollcall/admin/v1/admin.js';
import type { AdminBackend, AdminDropFolder, AdminEngine } from './backend.js';
import { AdminRequestError, invalidField, invalidRequest, notFound, notRunning, type RequestIssue } from './request-error.js';
import * as check from './requests.js';
import { applyUserInput, readUserInput, userIssues } from './user-input.js';
import { userView } from './user-view.js';
import { eventsPage, followEvents, latestEventId, newestEvents } from './event-reader.js';
import { checkShape } from './shapes/check.js';
import { deviceShape } from './shapes/device.js';
import { eventShape } from './shapes/event.js';
import { pluginShape } from './shapes/plugin.js';

/** Largest user-ID list per plan list unless asked (counts are always whole). */
const DEFAULT_PLAN_IDS = 100;
const MAX_PLAN_IDS = 100_000;
/** Bytes per chunk of a download; well under any message limit. */
export const CHUNK_BYTES = 256 * 1024;
/** Progress messages are sent at most this often. */
const PROGRESS_EVERY_MS = 100;

export type Emit<T> = (message: T) => Promise<void>;

export interface AdminServiceOptions {
  backend: AdminBackend;
  logger: Logger;
  /** How often FollowEvents looks for new events. */
  followPollMs?: number;
  now?: () => number;
}

/** Who asked, as the client says (metadata); recorded with admin changes, never trusted for access. */
export interface Caller {
  operator?: string;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Sends progress at most every PROGRESS_EVERY_MS, and always the last one when asked. */
class ProgressThrottle {
  #last = 0;
  #emit: Emit<Progress>;
  constructor(emit: Emit<Progress>) {
    this.#emit = emit;
  }
  async send(progress: Progress, force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.#last < PROGRESS_EVERY_MS) return;
    this.#last = now;
    await this.#emit(progress);
  }
}

export function reportMessage(r: DropReport): ImportReport {
  return {
    file: r.file,
    format: r.format,
    hash: r.hash,
    state: r.state,
    imported: r.rows.imported,
    unchanged: r.rows.unchanged,
    failed: r.rows.failed,
    reason: r.reason ?? '',
    notes: [...r.notes],
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: r.durationMs,
    path: r.path ?? '',
    errorsCsv: r.errorsCsv ?? '',
    reportJson: r.reportJson ?? '',
  };
}

/** Field names whose values differ (names only: values may be secrets); a new user against an empty one. */
function changedFields(before: User | undefined, after: User): string[] {
  const base = before ?? emptyUser(after.id);
  const keys = new Set([...Object.keys(base), ...Object.keys(after)]);
  const a = base as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  return [...keys].filter((key) => !isDeepStrictEqual(a[key], b[key])).sort();
}

export class AdminService {
  readonly #o: AdminServiceOptions;

  constructor(options: AdminServiceOptions) {
    this.#o = options;
  }

  get #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  get #backend(): AdminBackend {
    return this.#o.backend;
  }

  #store(): Store {
    const store = this.#backend.store;
    if (!store) throw notRunning('the store is not open (the daemon is starting or stopping)');
    return store;
  }

  #engine(): AdminEngine {
    const engine = this.#backend.engine;
    if (!engine) throw notRunning('sync is not running: the transport or the sync mode failed to start (see `rollcall status`)');
    return engine;
  }

  #dropFolder(): AdminDropFolder {
    const folder = this.#backend.dropFolder;
    if (!folder) throw notRunning('the drop folder is not running (no watcher is enabled, or it failed; see `rollcall status`)');
    return folder;
  }

  // -------------------------------------------------------------------------
  // status and devices

  async status(): Promise<StatusResponse> {
    const backend = this.#backend;
    const info = backend.daemonInfo();
    const store = backend.store;
    let storeInfo = { open: false, users: 0, seq: 0 };
    if (store) {
      try {
        storeInfo = { open: true, users: await store.countUsers(), seq: store.currentSeq() };
      } catch (error) {
        this.#o.logger.debug({ err: error }, 'status: the store could not be read');
      }
    }
    const engine = backend.engine;
    let devices: DeviceStatus[] = [];
    try {
      devices = engine?.status() ?? [];
    } catch (error) {
      // The engine reads the store's seq; with the store closed, status still answers.
      this.#o.logger.debug({ err: error }, 'status: the sync engine could not report');
    }
    return {
      daemon: {
        state: info.state,
        version: info.version,
        pid: info.pid,
        startedAtMs: info.startedAt,
        configFile: info.configFile ?? '',
        logLevel: backend.logLevel(),
      },
      store: storeInfo,
      sync: {
        running: engine !== undefined,
        mode: engine?.config.mode ?? '',
        devices: devices.length,
        connected: devices.filter((d) => d.connected).length,
        inSync: devices.filter((d) => d.inSync).length,
        pending: devices.reduce((sum, d) => sum + d.pending, 0),
        heldRemovals: devices.filter((d) => d.heldRemoval).length,
        quarantined: devices.filter((d) => d.quarantined).length,
      },
      plugins: info.plugins.map(pluginShape.toWire),
      ready: info.ready,
    };
  }

  listDevices(): ListDevicesResponse {
    return { devices: this.#engine().status().map(deviceShape.toWire) };
  }

  // -------------------------------------------------------------------------
  // sync, verify, plan, confirm

  /** Checks the selected devices one task each, emitting each result as it comes. */
  async #checkEach(engine: AdminEngine, ids: readonly number[], options: { deep: boolean; repair: boolean }, emit: (result: CheckResult) => Promise<void>): Promise<void> {
    await Promise.all(
      ids.map(async (deviceId) => {
        let result: CheckResult;
        try {
          const [found] = await engine.verify({ deviceId, deep: options.deep, repair: options.repair });
          result = found ? checkShape.toWire(found) : checkShape.toWire({ deviceId, method: options.deep ? 'deep' : 'headers', inSync: false, differences: 0, enrolled: 0, removed: 0, held: 0, leftAlone: 0, error: 'the device is no longer known' });
        } catch (error) {
          result = checkShape.toWire({ deviceId, method: options.deep ? 'deep' : 'headers', inSync: false, differences: 0, enrolled: 0, removed: 0, held: 0, leftAlone: 0, error: errorText(error) });
        }
        await emit(result);
      }),
    );
  }

  async sync(request: SyncRequest, emit: Emit<SyncUpdate>): Promise<void> {
    const engine = this.#engine();
    if (request.userId !== undefined) {
      if (request.deviceId !== undefined || request.location !== undefined || request.full) {
        throw invalidField('userId', 'exclusive', 'a user sync goes to every device that should hold the user; it cannot be combined with deviceId, location or full');
      }
      const id = check.userId('userId', request.userId);
      const inDatabase = (await this.#store().getUser(id)) !== undefined;
      const outcome = await engine.syncUser(id);
      await emit({
        update: {
          $case: 'user',
          value: {
            userId: id,
            inDatabase,
            enrolled: outcome.enrolled,
            removed: outcome.removed,
            failed: Object.entries(outcome.failed).map(([deviceId, message]) => ({ deviceId: Number(deviceId), message })),
          },
        },
      });
      return;
    }
    const filter = { ...(request.deviceId !== undefined ? { deviceId: request.deviceId } : {}), ...(request.location !== undefined ? { location: request.location } : {}) };
    const selected = check.selectDevices(engine.status(), filter);
    const released = await engine.sync(filter);
    await emit({ update: { $case: 'started', value: { deviceIds: released, full: request.full } } });
    if (request.full) {
      await this.#checkEach(engine, selected.map((d) => d.id), { deep: false, repair: true }, (value) => emit({ update: { $case: 'check', value } }));
    }
  }

  async verify(request: VerifyRequest, emit: Emit<VerifyUpdate>): Promise<void> {
    const engine = this.#engine();
    const filter = { ...(request.deviceId !== undefined ? { deviceId: request.deviceId } : {}), ...(request.location !== undefined ? { location: request.location } : {}) };
    const ids = check.selectDevices(engine.status(), filter).map((d) => d.id);
    await emit({ update: { $case: 'started', value: { deviceIds: ids, deep: request.deep } } });
    await this.#checkEach(engine, ids, { deep: request.deep, repair: false }, (value) => emit({ update: { $case: 'check', value } }));
  }

  async plan(request: PlanRequest): Promise<PlanResponse> {
    const engine = this.#engine();
    const maxIds = check.pageLimit('maxIds', request.maxIds, DEFAULT_PLAN_IDS, MAX_PLAN_IDS);
    const filter = { ...(request.deviceId !== undefined ? { deviceId: request.deviceId } : {}), ...(request.location !== undefined ? { location: request.location } : {}) };
    const selected = check.selectDevices(engine.status(), filter);
    const devices: DevicePlan[] = [];
    for (const device of selected) {
      const [preview] = device.connected ? await engine.plan({ deviceId: device.id }) : [];
      if (!preview) {
        devices.push({ deviceId: device.id, connected: false, enrollCount: 0, removeCount: 0, skippedCount: 0, enroll: [], remove: [], skipped: [], truncated: false, removalNeedsConfirmation: false });
        continue;
      }
      const truncated = preview.enroll.length > maxIds || preview.remove.length > maxIds || preview.skipped.length > maxIds;
      // The device's user count from its last check stands in for what it holds now.
      const holding = device.userCount;
      devices.push({
        deviceId: device.id,
        connected: true,
        enrollCount: preview.enroll.length,
        removeCount: preview.remove.length,
        skippedCount: preview.skipped.length,
        enroll: preview.enroll.slice(0, maxIds),
        remove: preview.remove.slice(0, maxIds),
        skipped: preview.skipped.slice(0, maxIds),
        truncated,
        removalNeedsConfirmation: holding !== undefined && removalNeedsConfirmation(preview.remove.length, holding, engine.config.massRemoval),
      });
    }
    return { devices };
  }

  async confirm(request: ConfirmRequest): Promise<ConfirmResponse> {
    const engine = this.#engine();
    const devices = check.selectDevices(engine.status(), request.deviceId !== undefined ? { deviceId: request.deviceId } : {});
    const held = new Map(devices.filter((d) => d.heldRemoval).map((d) => [d.id, d.heldRemoval!.removals]));
    const released = await engine.confirmRemovals(request.deviceId);
    return { released: released.map((deviceId) => ({ deviceId, removals: held.get(deviceId) ?? 0 })) };
  }

  // -------------------------------------------------------------------------
  // users

  async listUsers(request: ListUsersRequest): Promise<ListUsersResponse> {
    const store = this.#store();
    const limit = check.pageLimit('limit', request.limit);
    const after = request.after === '' ? undefined : check.userId('after', request.after);
    const users: User[] = [];
    for await (const user of store.scanUsers({ ...(after !== undefined ? { after } : {}), limit: limit + 1 })) users.push(user);
    const more = users.length > limit;
    const page = users.slice(0, limit);
    return {
      usersJson: page.map((u) => JSON.stringify(userView(u))),
      nextAfter: more ? page[page.length - 1]!.id : '',
      total: await store.countUsers(),
    };
  }

  async getUser(request: GetUserRequest): Promise<GetUserResponse> {
    const id = check.userId('id', request.id);
    const user = await this.#store().getUser(id);
    if (!user) throw notFound('id', `no user ${JSON.stringify(id)} in the database`);
    return { userJson: JSON.stringify(userView(user)) };
  }

  async setUser(request: SetUserRequest, caller: Caller = {}): Promise<SetUserResponse> {
    const store = this.#store();
    if (request.users.length === 0) throw invalidField('users', 'required', 'at least one user is required');
    if (request.users.length > check.MAX_USERS_PER_REQUEST) {
      throw invalidField('users', 'max-count', `at most ${check.MAX_USERS_PER_REQUEST} users per request (got ${request.users.length})`);
    }
    const issues: RequestIssue[] = [];
    const inputs = request.users.map((item, index) => {
      const read = readUserInput(item.userJson);
      const userId = read.ok ? read.input.id : undefined;
      const tag = (list: RequestIssue[]): void => {
        issues.push(...list.map((i) => ({ ...i, index, ...(userId !== undefined ? { userId } : {}) })));
      };
      if (!read.ok) tag(read.issues);
      else tag(issuesOf(() => check.userId('id', read.input.id)));
      if (item.pin !== '') tag(issuesOf(() => check.plainPin('pin', item.pin)));
      return read.ok ? { input: read.input, pin: item.pin, index } : undefined;
    });
    const seen = new Set<string>();
    for (const entry of inputs) {
      if (!entry) continue;
      if (seen.has(entry.input.id)) issues.push({ field: 'id', rule: 'duplicate', message: `id: user ${JSON.stringify(entry.input.id)} is given twice`, index: entry.index, userId: entry.input.id });
      seen.add(entry.input.id);
    }
    if (issues.length > 0) throw refuseUsers(issues, request.users.length);

    const valid = inputs.filter((e): e is NonNullable<typeof e> => e !== undefined);
    const current = await store.getUsers(valid.map((e) => e.input.id));
    const next = valid.map((entry, i) => ({ entry, before: current[i], user: applyUserInput(current[i], entry.input, request.replace) }));
    for (const { entry, user } of next) {
      for (const found of userIssues(user)) issues.push({ ...found, index: entry.index, userId: entry.input.id });
    }
    if (issues.length > 0) throw refuseUsers(issues, request.users.length);

    // PINs are hashed only once everything else is known to be valid, and never kept.
    for (const item of next) {
      if (item.entry.pin === '') continue;
      try {
        item.user.pinHash = await this.#backend.hashPin(item.entry.pin);
      } catch (error) {
        throw notRunning(`the PIN of user ${item.entry.input.id} could not be hashed by the gateway (${errorText(error)}); nothing was changed`);
      }
    }

    const by = caller.operator;
    const mutations: Mutation[] = [];
    const changes: UserChange[] = [];
    for (const { entry, before, user } of next) {
      const changed = !isDeepStrictEqual(before, user);
      changes.push({ id: entry.input.id, created: before === undefined, changed });
      if (!changed) continue;
      mutations.push({ type: 'putUser', user, origin: { kind: 'admin', ...(by ? { by } : {}) } });
      const event: NewEvent = {
        kind: EventKind.serverUpdate,
        message: EventText.serverUpdate,
        userId: user.id,
        detail: { source: 'admin', created: before === undefined, fields: changedFields(before, user), ...(by ? { by } : {}) },
      };
      mutations.push({ type: 'appendEvent', event });
    }
    const seq = mutations.length > 0 ? (await store.commit(mutations)).seq : store.currentSeq();
    const written = changes.filter((c) => c.changed).map((c) => c.id);
    this.#o.logger.info({ users: written, by }, `admin: ${written.length} user(s) set`);
    return { users: changes, seq };
  }

  async deleteUser(request: DeleteUserRequest, caller: Caller = {}): Promise<DeleteUserResponse> {
    const store = this.#store();
    const ids = check.userIds('ids', request.ids);
    const found = await store.getUsers(ids);
    const missing = ids.filter((_, i) => found[i] === undefined);
    if (missing.length > 0) {
      throw notFound('ids', `no user ${missing.slice(0, 10).map((id) => JSON.stringify(id)).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''} in the database; nothing was deleted`);
    }
    const by = caller.operator;
    const mutations: Mutation[] = ids.flatMap((userId): Mutation[] => [
      { type: 'deleteUser', userId, origin: { kind: 'admin', ...(by ? { by } : {}) } },
      { type: 'appendEvent', event: { kind: 'user.delete.server', message: 'User deletion succeeded (Server)', userId, detail: { source: 'admin', ...(by ? { by } : {}) } } },
    ]);
    const { seq } = await store.commit(mutations);
    this.#o.logger.info({ users: ids, by }, `admin: ${ids.length} user(s) deleted`);
    return { deleted: ids, seq };
  }

  // -------------------------------------------------------------------------
  // import and export

  /**
   * Writes the upload into the staging folder under its own name (the name picks the watcher
   * and names the reports), then imports it through the drop folder. The upload is removed
   * afterwards: the drop folder has its own copy in incoming/ → done/ or failed/.
   */
  async import(start: ImportStart, chunks: AsyncIterable<Buffer>, emit: Emit<ImportUpdate>, signal: AbortSignal): Promise<void> {
    const name = check.fileName(start.name);
    const folder = this.#dropFolder();
    await mkdir(this.#backend.stagingDir, { recursive: true, mode: 0o750 });
    const dir = await mkdtemp(join(this.#backend.stagingDir, 'import-'));
    const progress = new ProgressThrottle((value) => emit({ update: { $case: 'progress', value } }));
    try {
      const path = join(dir, name);
      const out = createWriteStream(path, { mode: 0o640 });
      let received = 0;
      try {
        for await (const chunk of chunks) {
          if (!out.write(chunk)) await once(out, 'drain', { signal });
          received += chunk.length;
          await progress.send({ phase: 'upload', done: received, total: start.size, unit: 'bytes' });
        }
      } finally {
        out.end();
        await once(out, 'close').catch(() => undefined);
      }
      if (signal.aborted) return;
      await progress.send({ phase: 'upload', done: received, total: start.size, unit: 'bytes' }, true);
      const pending: Promise<void>[] = [];
      const report = await folder.importFile(path, {
        signal,
        // Records handled so far; the drop folder does not know a file's record count in advance.
        onProgress: (p) => {
          pending.push(progress.send({ phase: 'import', done: p.handled, total: 0, unit: 'rows' }).catch(() => undefined));
        },
      });
      await Promise.all(pending);
      await emit({ update: { $case: 'report', value: reportMessage(report) } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Exports into outgoing/, or with `download` into the staging folder, streamed back and
   * removed. The drop folder reports no progress while it writes; the download does.
   */
  async export(request: ExportRequest, emit: Emit<ExportUpdate>, signal: AbortSignal): Promise<void> {
    const format = check.exportFormat(request.format);
    const folder = this.#dropFolder();
    if (!request.download) {
      const result = await folder.exportUsers(format, { signal });
      const { size } = await stat(result.path);
      await emit({ update: { $case: 'result', value: { format: result.format, path: result.path, users: result.users, bytes: size } } });
      return;
    }
    await mkdir(this.#backend.stagingDir, { recursive: true, mode: 0o750 });
    const dir = await mkdtemp(join(this.#backend.stagingDir, 'export-'));
    try {
      const result = await folder.exportUsers(format, { out: dir, signal });
      const { size } = await stat(result.path);
      await emit({ update: { $case: 'result', value: { format: result.format, path: basename(result.path), users: result.users, bytes: size } } });
      const input = createReadStream(result.path, { highWaterMark: CHUNK_BYTES });
      try {
        for await (const chunk of input as AsyncIterable<Buffer>) await emit({ update: { $case: 'chunk', value: chunk } });
      } finally {
        input.destroy();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  // -------------------------------------------------------------------------
  // events and log level

  async events(request: EventsRequest): Promise<EventsResponse> {
    const store = this.#store();
    const limit = check.pageLimit('limit', request.limit);
    const query = check.eventQuery({
      ...(request.sinceMs !== undefined ? { sinceMs: request.sinceMs } : {}),
      ...(request.untilMs !== undefined ? { untilMs: request.untilMs } : {}),
      ...(request.userId !== undefined ? { userId: request.userId } : {}),
      ...(request.deviceId !== undefined ? { deviceId: request.deviceId } : {}),
      ...(request.kind !== undefined ? { kind: request.kind } : {}),
    });
    if (request.afterId !== undefined) query.afterId = request.afterId;
    const found = query.since === undefined && query.afterId === undefined ? await newestEvents(store, query, limit, this.#now) : await eventsPage(store, query, limit);
    return { events: found.events.map(eventShape.toWire), more: found.more };
  }

  async followEvents(request: FollowEventsRequest, emit: Emit<Event>, signal: AbortSignal): Promise<void> {
    const store = this.#store();
    const backlog = check.pageLimit('backlog', request.backlog, 0, check.MAX_PAGE);
    const query = check.eventQuery({
      ...(request.userId !== undefined ? { userId: request.userId } : {}),
      ...(request.deviceId !== undefined ? { deviceId: request.deviceId } : {}),
      ...(request.kind !== undefined ? { kind: request.kind } : {}),
      ...(request.sinceMs !== undefined ? { sinceMs: request.sinceMs } : {}),
    });
    // Everything up to `start` comes from the backlog; everything after it from following,
    // so an event written in between is sent once.
    const start = await latestEventId(store, this.#now);
    if (query.since !== undefined) {
      let afterId: number | undefined;
      for (;;) {
        const page = await store.queryEvents({ ...query, ...(afterId !== undefined ? { afterId } : {}), limit: 1000 });
        for (const event of page) if (event.id <= start) await emit(eventShape.toWire(event));
        if (page.length < 1000 || page[page.length - 1]!.id > start) break;
        afterId = page[page.length - 1]!.id;
      }
    } else if (backlog > 0) {
      const { events } = await newestEvents(store, query, backlog, this.#now);
      for (const event of events) if (event.id <= start) await emit(eventShape.toWire(event));
    }
    const { since: _since, ...follow } = query;
    await followEvents(store, follow, { afterId: start, pollMs: this.#o.followPollMs ?? 500, signal }, (event) => emit(eventShape.toWire(event)));
  }

  setLogLevel(request: SetLogLevelRequest, caller: Caller = {}): SetLogLevelResponse {
    const level = check.logLevel(request.level);
    const previous = this.#backend.logLevel();
    this.#backend.setLogLevel(level);
    this.#o.logger.info({ level, previous, by: caller.operator }, `log level set to ${level} (was ${previous}) until the next reload`);
    return { level, previous };
  }
}

/** The issues a check throws, or none. */
function issuesOf(run: () => unknown): RequestIssue[] {
  try {
    run();
    return [];
  } catch (error) {
    if (error instanceof AdminRequestError) return error.issues;
    throw error;
  }
}

/** INVALID_ARGUMENT for a SetUser request; each issue says which user when there are several. */
function refuseUsers(issues: RequestIssue[], users: number): AdminRequestError {
  const who = (i: RequestIssue): string => (i.userId !== undefined ? `user ${i.userId}` : `user #${(i.index ?? 0) + 1}`);
  if (users === 1) return invalidRequest(issues, who(issues[0]!));
  const refused = new Set(issues.map(who)).size;
  return invalidRequest(
    issues.map((i) => ({ ...i, message: `${who(i)}: ${i.message}` })),
    `${refused} of ${users} users refused, nothing was changed`,
  );
}
