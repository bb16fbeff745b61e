/**
 * The users in the database: ListUsers, GetUser, SetUser, DeleteUser. Reading sends a view
 * (no credential data); writing is all or none, every user checked before anything is written.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Mutation, Store } from '../../plugins/api.js';
import { pinHashIsForeign } from '../../model/pin-provenance.js';
import { leftOffList } from '../shapes/left-off.js';
import { emptyUser, type User } from '../../model/user.js';
import { wordedEvent } from '../../merge/events.js';
import type {
  DeleteUserRequest,
  DeleteUserResponse,
  GetUserRequest,
  GetUserResponse,
  ListUsersRequest,
  ListUsersResponse,
  SetUserRequest,
  SetUserResponse,
  UserChange,
} from '../../../proto/gen/rollcall/admin/v1/admin.js';
import { AdminRequestError, invalidField, invalidRequest, notFound, notRunning, type RequestIssue } from '../request-error.js';
import * as check from '../requests.js';
import { applyUserInput, readUserInput, userIssues } from '../user-input.js';
import { userView } from '../user-view.js';
import { callerDetail, errorText, type Caller, type RequestContext } from './context.js';

/** Field names whose values differ (names only: values may be secrets); a new user against an empty one. */
function changedFields(before: User | undefined, after: User): string[] {
  const base = before ?? emptyUser(after.id);
  const keys = new Set([...Object.keys(base), ...Object.keys(after)]);
  const a = base as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  return [...keys].filter((key) => !isDeepStrictEqual(a[key], b[key])).sort();
}

export class UserService {
  readonly #c: RequestContext;

  constructor(context: RequestContext) {
    this.#c = context;
  }

  async listUsers(request: ListUsersRequest): Promise<ListUsersResponse> {
    const store = this.#c.store();
    const limit = check.pageLimit('limit', request.limit);
    const after = request.after === '' ? undefined : check.userId('after', request.after);
    if (request.foreignPinHash) return this.#listForeignPinHashes(store, after, limit);
    const users: User[] = [];
    for await (const user of store.scanUsers({ ...(after !== undefined ? { after } : {}), limit: limit + 1 })) users.push(user);
    const more = users.length > limit;
    const page = users.slice(0, limit);
    return {
      usersJson: page.map((u) => JSON.stringify(userView(u))),
      nextAfter: more ? page[page.length - 1]!.id : '',
      total: await store.countUsers(),
      pinHashScheme: '',
    };
  }

  /** Users whose PIN hash another gateway made (daemon/model/pin-provenance.ts), a page at a time. */
  async #listForeignPinHashes(store: Store, after: string | undefined, limit: number): Promise<ListUsersResponse> {
    const audit = this.#c.backend.pinHashes;
    const found = audit ? await audit.count() : { scheme: undefined, count: 0 };
    const users: User[] = [];
    if (found.scheme !== undefined) {
      for await (const user of store.scanUsers(after !== undefined ? { after } : {})) {
        if (!pinHashIsForeign(user, found.scheme)) continue;
        users.push(user);
        if (users.length > limit) break;
      }
    }
    const more = users.length > limit;
    const page = users.slice(0, limit);
    return {
      usersJson: page.map((u) => JSON.stringify(userView(u))),
      nextAfter: more ? page[page.length - 1]!.id : '',
      total: found.count,
      pinHashScheme: found.scheme ?? '',
    };
  }

  async getUser(request: GetUserRequest): Promise<GetUserResponse> {
    const id = check.userId('id', request.id);
    const user = await this.#c.store().getUser(id);
    if (!user) throw notFound('id', `no user ${JSON.stringify(id)} in the database`);
    const leftOff = this.#c.backend.engine?.leftOff?.(user) ?? [];
    return {
      userJson: JSON.stringify(userView(user)),
      leftOffByDevice: leftOff.map((entry) => ({ deviceId: entry.deviceId, leftOff: leftOffList.toWire(entry.leftOff) })),
    };
  }

  async setUser(request: SetUserRequest, caller: Caller = {}): Promise<SetUserResponse> {
    const store = this.#c.store();
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
      // A hash given as such, or cleared, has no known provenance (daemon/model/pin-provenance.ts).
      if (item.user.pinHash !== item.before?.pinHash) delete item.user.pinHashScheme;
      if (item.entry.pin === '') continue;
      try {
        const hashed = await this.#c.backend.hashPin(item.entry.pin);
        if (typeof hashed === 'string') {
          item.user.pinHash = hashed;
          delete item.user.pinHashScheme;
        } else {
          item.user.pinHash = hashed.hash;
          if (hashed.scheme === undefined) delete item.user.pinHashScheme;
          else item.user.pinHashScheme = hashed.scheme;
        }
      } catch (error) {
        throw notRunning(`the PIN of user ${item.entry.input.id} could not be hashed by the gateway (${errorText(error)}); nothing was changed`);
      }
    }

    const by = caller.user;
    const who = callerDetail(caller);
    const mutations: Mutation[] = [];
    const changes: UserChange[] = [];
    for (const { entry, before, user } of next) {
      const changed = !isDeepStrictEqual(before, user);
      changes.push({ id: entry.input.id, created: before === undefined, changed });
      if (!changed) continue;
      mutations.push({ type: 'putUser', user, origin: { kind: 'admin', ...(by ? { by } : {}) } });
      const event = wordedEvent('user.update.server', {
        userId: user.id,
        detail: { source: 'admin', created: before === undefined, fields: changedFields(before, user), ...who },
      });
      mutations.push({ type: 'appendEvent', event });
    }
    const seq = mutations.length > 0 ? (await store.commit(mutations)).seq : store.currentSeq();
    const written = changes.filter((c) => c.changed).map((c) => c.id);
    this.#c.logger.info({ users: written, ...who }, `admin: ${written.length} user(s) set`);
    return { users: changes, seq };
  }

  async deleteUser(request: DeleteUserRequest, caller: Caller = {}): Promise<DeleteUserResponse> {
    const store = this.#c.store();
    const ids = check.userIds('ids', request.ids);
    const found = await store.getUsers(ids);
    const missing = ids.filter((_, i) => found[i] === undefined);
    if (missing.length > 0) {
      throw notFound('ids', `no user ${missing.slice(0, 10).map((id) => JSON.stringify(id)).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''} in the database; nothing was deleted`);
    }
    const by = caller.user;
    const who = callerDetail(caller);
    const mutations: Mutation[] = ids.flatMap((userId): Mutation[] => [
      { type: 'deleteUser', userId, origin: { kind: 'admin', ...(by ? { by } : {}) } },
      { type: 'appendEvent', event: wordedEvent('user.delete.server', { userId, detail: { source: 'admin', ...who } }) },
    ]);
    const { seq } = await store.commit(mutations);
    this.#c.logger.info({ users: ids, ...who }, `admin: ${ids.length} user(s) deleted`);
    return { deleted: ids, seq };
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
