/**
 * The client commands (`rollcall status`, `devices`, `sync`, `verify`, `plan`, `confirm`,
 * `users`, `import`, `export`, `events`, `log-level`): each talks to a running daemon over
 * the admin socket, prints readable text or, with --json, one stable JSON shape
 * (json-shapes.ts), and exits with a documented code (ADMIN_EXIT).
 */
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError } from 'commander';
import { isRollcallError } from '../errors.js';
import type {
  CheckResult,
  ExportResult,
  ImportReport,
  UserSyncResult,
} from '../../proto/gen/rollcall/admin/v1/admin.js';
import { AdminCallError, AdminConnection, DaemonUnavailable, SocketPermissionDenied, type AdminStream } from './client.js';
import { clientSocket } from './cli-socket.js';
import {
  confirmJson,
  exportJson,
  importJson,
  planJson,
  statusJson,
  syncJson,
  usersListJson,
  verifyJson,
  type ErrorJson,
} from './json-shapes.js';
import { ProgressDisplay } from './progress.js';
import { renderChecks, renderDevices, renderEvent, renderExport, renderImport, renderPlan, renderStatus, renderUser, renderUserSync, renderUsers } from './render.js';
import { readTime } from './time-input.js';
import { anyField, userFromFlags, usersFromFile, type UserItem, type UserSetFlags } from './user-flags.js';
import type { UserView } from './user-view.js';
import { plural } from './format.js';
import { deviceShape } from './shapes/device.js';
import { eventShape } from './shapes/event.js';

/** Exit codes of the client commands (sysexits where one fits). */
export const ADMIN_EXIT = {
  OK: 0,
  /** The operation failed: a device check or sync failed, an import was refused, a user or device is unknown. */
  FAILURE: 1,
  /** Done, but not everything is as it should be: verify found differences, an import had failed rows. */
  DIFFERENCES: 2,
  /** Wrong usage, or a request the daemon refused as invalid (the message names the field). */
  USAGE: 64,
  /** An input file cannot be read. */
  NO_INPUT: 66,
  /** The daemon is not running (no socket, or nothing answers on it). */
  UNAVAILABLE: 69,
  /** The socket is there but this user may not use it. */
  NO_PERMISSION: 77,
  /** The config given with --config cannot be read. */
  CONFIG: 78,
  /** Interrupted (Ctrl-C) before the operation finished. */
  INTERRUPTED: 130,
} as const;

export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface AdminCliIo {
  stdout: OutStream;
  stderr: OutStream;
  stdin: NodeJS.ReadableStream;
  setExit(code: number): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  now(): number;
  /** Calls `handler` on Ctrl-C (instead of dying); returns a function that stops listening. */
  onInterrupt(handler: () => void): () => void;
}

function defaultIo(): AdminCliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    setExit: (code) => {
      process.exitCode = code;
    },
    env: process.env,
    cwd: process.cwd(),
    now: Date.now,
    onInterrupt: (handler) => {
      process.once('SIGINT', handler);
      return () => process.off('SIGINT', handler);
    },
  };
}

/** A mistake in how the command was used, found after parsing. */
class UsageError extends Error {}
/** An input file that cannot be read. */
class InputError extends Error {}

interface ClientOptions {
  socket?: string;
  config?: string;
  json?: boolean;
}

// ---- option values

function deviceIdValue(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > 0xffff_ffff) throw new InvalidArgumentError('a device ID is a whole number from 1');
  return Number(text);
}

function countValue(max: number) {
  return (text: string): number => {
    if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > max) throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
    return Number(text);
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

// ---- output

class Output {
  readonly json: boolean;
  readonly #io: AdminCliIo;
  readonly progress: ProgressDisplay;

  constructor(io: AdminCliIo, json: boolean) {
    this.#io = io;
    this.json = json;
    this.progress = new ProgressDisplay(io.stderr, !json);
  }

  /** The command's result: its JSON shape, or readable text. */
  result(value: unknown, human: () => string): void {
    this.progress.stop();
    if (this.json) this.#io.stdout.write(`${JSON.stringify(value)}\n`);
    else {
      const text = human();
      if (text !== '') this.#io.stdout.write(`${text}\n`);
    }
  }

  /** One JSON line (streams: events --follow, users list --all). */
  raw(text: string): void {
    this.#io.stdout.write(text);
  }

  /** A remark for people, on stderr (never in --json output). */
  note(text: string): void {
    if (this.json) return;
    this.progress.stop();
    this.#io.stderr.write(`${text}\n`);
  }

  /** Prints why the command failed and returns its exit code. */
  fail(error: unknown): number {
    this.progress.stop();
    const { code, body } = describeFailure(error);
    if (this.json) this.#io.stdout.write(`${JSON.stringify(body)}\n`);
    else {
      this.#io.stderr.write(`rollcall: ${body.error.message}\n`);
      // The message spells out up to 10 issues; the rest are listed here.
      for (const issue of body.error.issues.slice(10)) this.#io.stderr.write(`  ${issue.message}\n`);
    }
    return code;
  }
}

function describeFailure(error: unknown): { code: number; body: ErrorJson } {
  const body = (status: string, message: string, extra: Partial<ErrorJson['error']> = {}): ErrorJson => ({ error: { code: null, status, message, issues: [], ...extra } });
  if (error instanceof DaemonUnavailable) return { code: ADMIN_EXIT.UNAVAILABLE, body: body('UNAVAILABLE', error.message) };
  if (error instanceof SocketPermissionDenied) return { code: ADMIN_EXIT.NO_PERMISSION, body: body('PERMISSION_DENIED', error.message) };
  if (error instanceof UsageError) return { code: ADMIN_EXIT.USAGE, body: body('USAGE', error.message) };
  if (error instanceof InputError) return { code: ADMIN_EXIT.NO_INPUT, body: body('INPUT', error.message) };
  if (error instanceof AdminCallError) {
    const usage = error.grpcCodeName === 'INVALID_ARGUMENT' || error.grpcCodeName === 'RESOURCE_EXHAUSTED';
    const message = error.grpcCodeName === 'RESOURCE_EXHAUSTED' ? `the request is too large for the daemon (${error.message})` : error.message;
    return { code: usage ? ADMIN_EXIT.USAGE : ADMIN_EXIT.FAILURE, body: body(error.grpcCodeName, message, { code: error.errorCode ?? null, issues: error.issues }) };
  }
  if (isRollcallError(error, 'ROLLCALL_ERR_CONFIG_INVALID') || isRollcallError(error, 'ROLLCALL_ERR_CONFIG_NOT_FOUND')) {
    return { code: ADMIN_EXIT.CONFIG, body: body('CONFIG', error.message, { code: error.code }) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: ADMIN_EXIT.FAILURE, body: body('FAILED', message, { code: isRollcallError(error) ? error.code : null }) };
}

// ---- commands

export function registerAdminCommands(program: Command, overrides: Partial<AdminCliIo> = {}): void {
  const io: AdminCliIo = { ...defaultIo(), ...overrides };

  function clientCommand(parent: Command, name: string, description: string): Command {
    return parent
      .command(name)
      .description(description)
      .option('--socket <path>', 'the daemon\'s admin socket (default: admin.socket from the config, else $RUNTIME_DIRECTORY/rollcall.sock, else ./var/run/rollcall.sock)')
      .option('-c, --config <file>', 'config file to read admin.socket from (default: searched from the working directory)')
      .option('--json', 'print the result as JSON (a stable shape, see daemon/admin/README.md)');
  }

  /** Connects, runs, reports, closes; the exit code comes from `run` or from the failure. */
  async function withDaemon(options: ClientOptions, run: (connection: AdminConnection, out: Output) => Promise<number>): Promise<void> {
    const out = new Output(io, options.json === true);
    let connection: AdminConnection | undefined;
    try {
      const socket = await clientSocket(options, io.env, io.cwd);
      connection = await AdminConnection.open(socket.path);
      io.setExit(await run(connection, out));
    } catch (error) {
      io.setExit(out.fail(error));
    } finally {
      connection?.close();
    }
  }

  /** Iterates a stream; Ctrl-C cancels it. Returns false when interrupted. */
  async function drain<T>(stream: AdminStream<T>, each: (message: T) => void | Promise<void>): Promise<boolean> {
    let interrupted = false;
    const stop = io.onInterrupt(() => {
      interrupted = true;
      stream.cancel();
    });
    try {
      for await (const message of stream) await each(message);
    } finally {
      stop();
    }
    return !interrupted;
  }

  // ---- status, devices

  clientCommand(program, 'status', 'show the daemon, the store, sync and the plugins at a glance').action((options: ClientOptions) =>
    withDaemon(options, async (c, out) => {
      const response = await c.unary('Status', c.client.status, {});
      const json = statusJson(response, io.now());
      out.result(json, () => renderStatus(json));
      return ADMIN_EXIT.OK;
    }),
  );

  clientCommand(program, 'devices', 'list the devices with their connection and sync state').action((options: ClientOptions) =>
    withDaemon(options, async (c, out) => {
      const { devices } = await c.unary('ListDevices', c.client.listDevices, {});
      const json = { devices: devices.map(deviceShape.toJson) };
      out.result(json, () => renderDevices(json.devices, io.now()));
      return ADMIN_EXIT.OK;
    }),
  );

  // ---- sync, verify, plan, confirm

  /** Exit code of a set of checks: a failed check is 1, a device that differs is 2. */
  const checksExit = (checks: CheckResult[]): number =>
    checks.some((x) => x.error !== '') ? ADMIN_EXIT.FAILURE : checks.some((x) => !x.inSync) ? ADMIN_EXIT.DIFFERENCES : ADMIN_EXIT.OK;

  clientCommand(program, 'sync', 'send pending changes now (all, one user, one device or one location); --full also checks and repairs')
    .option('--user <id>', 'push one user now to every device that should hold it')
    .option('--device <id>', 'only this device', deviceIdValue)
    .option('--location <name>', 'only the devices of this location')
    .option('--full', 'check each device and repair the differences (a diff repair, never a wipe)')
    .action((options: ClientOptions & { user?: string; device?: number; location?: string; full?: boolean }) =>
      withDaemon(options, async (c, out) => {
        if (options.user !== undefined && (options.device !== undefined || options.location !== undefined || options.full)) {
          throw new UsageError('--user goes to every device that should hold the user; it cannot be combined with --device, --location or --full');
        }
        const stream = c.stream('Sync', c.client.sync, {
          ...(options.user !== undefined ? { userId: options.user } : {}),
          ...(options.device !== undefined ? { deviceId: options.device } : {}),
          ...(options.location !== undefined ? { location: options.location } : {}),
          full: options.full === true,
        });
        let released: number[] = [];
        let expected = 0;
        const checks: CheckResult[] = [];
        let user: UserSyncResult | undefined;
        const finished = await drain(stream, (update) => {
          const u = update.update;
          if (u?.$case === 'started') {
            released = u.value.deviceIds;
            expected = u.value.full ? released.length : 0;
            if (u.value.full) out.progress.update({ phase: 'checking', done: 0, total: expected, unit: 'devices' });
          } else if (u?.$case === 'check') {
            checks.push(u.value);
            out.progress.update({ phase: 'checking', done: checks.length, total: expected, unit: 'devices' });
          } else if (u?.$case === 'user') {
            user = u.value;
          }
        });
        if (!finished) {
          out.note('interrupted; checks under way finish on the daemon');
          return ADMIN_EXIT.INTERRUPTED;
        }
        checks.sort((a, b) => a.deviceId - b.deviceId);
        const json = syncJson(released, options.full === true, checks, user);
        out.result(json, () => {
          if (json.user) return renderUserSync(json.user);
          const head = released.length === 0 ? 'no devices to sync' : `sync requested for ${plural(released.length, 'device')}: ${released.join(', ')}`;
          return options.full ? `${head}\n${renderChecks(json.checks)}` : head;
        });
        if (user) return user.failed.length > 0 ? ADMIN_EXIT.FAILURE : ADMIN_EXIT.OK;
        return checksExit(checks);
      }),
    );

  clientCommand(program, 'verify', 'check devices against the database without changing them (exit 2 when one differs)')
    .option('--device <id>', 'only this device', deviceIdValue)
    .option('--location <name>', 'only the devices of this location')
    .option('--deep', 'compare the content of every user, not only IDs and credential counts')
    .action((options: ClientOptions & { device?: number; location?: string; deep?: boolean }) =>
      withDaemon(options, async (c, out) => {
        const stream = c.stream('Verify', c.client.verify, {
          ...(options.device !== undefined ? { deviceId: options.device } : {}),
          ...(options.location !== undefined ? { location: options.location } : {}),
          deep: options.deep === true,
        });
        let expected = 0;
        const checks: CheckResult[] = [];
        const finished = await drain(stream, (update) => {
          const u = update.update;
          if (u?.$case === 'started') {
            expected = u.value.deviceIds.length;
            out.progress.update({ phase: 'checking', done: 0, total: expected, unit: 'devices' });
          } else if (u?.$case === 'check') {
            checks.push(u.value);
            out.progress.update({ phase: 'checking', done: checks.length, total: expected, unit: 'devices' });
          }
        });
        if (!finished) {
          out.note('interrupted; checks under way finish on the daemon');
          return ADMIN_EXIT.INTERRUPTED;
        }
        checks.sort((a, b) => a.deviceId - b.deviceId);
        const json = verifyJson(options.deep === true, checks);
        out.result(json, () => renderChecks(json.checks));
        return checksExit(checks);
      }),
    );

  clientCommand(program, 'plan', 'show what a sync would change on each device, without doing it')
    .option('--device <id>', 'only this device', deviceIdValue)
    .option('--location <name>', 'only the devices of this location')
    .option('--max-ids <n>', 'user IDs listed per list (counts are always whole; default 100)', countValue(100_000))
    .action((options: ClientOptions & { device?: number; location?: string; maxIds?: number }) =>
      withDaemon(options, async (c, out) => {
        const { devices } = await c.unary(
          'Plan',
          c.client.plan,
          {
            ...(options.device !== undefined ? { deviceId: options.device } : {}),
            ...(options.location !== undefined ? { location: options.location } : {}),
            maxIds: options.maxIds ?? 0,
          },
          { deadlineMs: null },
        );
        const json = planJson(devices);
        out.result(json, () => renderPlan(json));
        return ADMIN_EXIT.OK;
      }),
    );

  clientCommand(program, 'confirm', 'let held mass removals go ahead (all devices, or one)')
    .option('--device <id>', 'only this device', deviceIdValue)
    .action((options: ClientOptions & { device?: number }) =>
      withDaemon(options, async (c, out) => {
        const response = await c.unary('Confirm', c.client.confirm, options.device !== undefined ? { deviceId: options.device } : {});
        const json = confirmJson(response);
        out.result(json, () =>
          json.released.length === 0 ? 'no removals were held' : json.released.map((r) => `device ${r.deviceId}: ${plural(r.removals, 'removal')} confirmed; they go ahead now`).join('\n'),
        );
        return ADMIN_EXIT.OK;
      }),
    );

  // ---- users

  const users = program.command('users').description('list, show, set and delete users in the database');

  clientCommand(users, 'list', 'list users in ID order, a page at a time')
    .option('--after <id>', 'start after this user ID')
    .option('--limit <n>', 'users per page (default 100)', countValue(10_000))
    .option('--all', 'every user, page after page')
    .action((options: ClientOptions & { after?: string; limit?: number; all?: boolean }) =>
      withDaemon(options, async (c, out) => {
        const limit = options.limit ?? (options.all ? 1000 : 100);
        let after = options.after ?? '';
        if (!options.all) {
          const page = await c.unary('ListUsers', c.client.listUsers, { after, limit });
          const views = page.usersJson.map((text) => JSON.parse(text) as UserView);
          const json = usersListJson(views, page.nextAfter, page.total);
          out.result(json, () => renderUsers(views, json.next, page.total, 0));
          return ADMIN_EXIT.OK;
        }
        // --all writes one JSON document (or one table per page) as pages come, so memory stays flat.
        let shown = 0;
        if (out.json) out.raw('{"users":[');
        for (;;) {
          const page = await c.unary('ListUsers', c.client.listUsers, { after, limit });
          if (out.json) out.raw(page.usersJson.map((text, i) => (shown + i > 0 ? ',' : '') + text).join(''));
          else if (page.usersJson.length > 0 || shown === 0) {
            const views = page.usersJson.map((text) => JSON.parse(text) as UserView);
            out.raw(`${renderUsers(views, null, page.total, shown)}\n`);
          }
          shown += page.usersJson.length;
          if (page.nextAfter === '') {
            if (out.json) out.raw(`],"next":null,"total":${page.total}}\n`);
            return ADMIN_EXIT.OK;
          }
          after = page.nextAfter;
        }
      }),
    );

  clientCommand(users, 'show', 'show one user (credentials as counts and card types)')
    .argument('<id>', 'user ID')
    .action((id: string, options: ClientOptions) =>
      withDaemon(options, async (c, out) => {
        const { userJson } = await c.unary('GetUser', c.client.getUser, { id });
        const view = JSON.parse(userJson) as UserView;
        out.result(view, () => renderUser(view));
        return ADMIN_EXIT.OK;
      }),
    );

  clientCommand(users, 'set', 'create or change a user from flags, or users from a JSON/YAML file (all or none)')
    .argument('[id]', 'user ID (with flags)')
    .option('-f, --file <path>', 'a JSON or YAML file with one user or a list (fields as in daemon/model/user.ts; "pin" in plaintext)')
    .option('--replace', 'fields not given are emptied (default: kept)')
    .option('--name <name>', 'name (at most 48 characters)')
    .option('--department <text>', 'department')
    .option('--title <text>', 'title')
    .option('--phone <text>', 'phone')
    .option('--email <address>', 'email')
    .option('--group <name>', 'user group')
    .option('--start <date>', 'valid from: 2026-01-01, "2026-01-01 08:00" (local time), or 0 for no limit')
    .option('--end <date>', 'valid until (a date alone: the end of that day), or 0 for no limit')
    .option('--disable', 'disable the user')
    .option('--enable', 'enable the user')
    .option('--security-level <n>', '0 (device default) to 5')
    .option('--access-groups <list>', 'comma-separated access groups ("" for none)')
    .option('--csn <number>', 'a CSN card number, decimal (repeatable; replaces the cards)', collect)
    .option('--clear-cards', 'remove every card')
    .option('--pin <digits>', 'a PIN of 4 to 16 digits, hashed by the gateway, never stored in plaintext; "-" reads it from stdin')
    .option('--clear-pin', 'remove the PIN')
    .option('--custom <name=value>', 'a custom field (repeatable)', collect)
    .action((id: string | undefined, options: ClientOptions & UserSetFlags & { file?: string; replace?: boolean; pin?: string }) =>
      withDaemon(options, async (c, out) => {
        const { socket: _s, config: _c, json: _j, file, replace, pin, ...flags } = options;
        let items: UserItem[];
        if (file !== undefined) {
          if (id !== undefined || anyField(flags) || pin !== undefined) throw new UsageError('with --file, give the users in the file (no ID or field flags)');
          let text: string;
          try {
            text = await readFile(resolve(io.cwd, file), 'utf8');
          } catch (error) {
            throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
          }
          const built = usersFromFile(text);
          if (!built.ok) throw new UsageError(`${file}: ${built.reason}`);
          items = built.items;
        } else {
          if (id === undefined) throw new UsageError('give a user ID (rollcall users set ID --name …) or --file');
          if (!anyField(flags) && pin === undefined && !replace) throw new UsageError('nothing to set: give at least one field flag (see rollcall users set --help)');
          const built = userFromFlags(id, flags);
          if (!built.ok) throw new UsageError(built.reason);
          const plain = pin === '-' ? await readLine(io.stdin) : (pin ?? '');
          if (pin === '-' && plain === '') throw new UsageError('--pin -: no PIN on stdin');
          items = [{ json: JSON.stringify(built.user), pin: plain }];
        }
        const response = await c.unary('SetUser', c.client.setUser, { users: items.map((i) => ({ userJson: i.json, pin: i.pin })), replace: replace === true });
        const json = { users: response.users.map((u) => ({ id: u.id, created: u.created, changed: u.changed })), seq: response.seq };
        out.result(json, () => json.users.map((u) => `user ${u.id}: ${u.created ? 'created' : u.changed ? 'updated' : 'unchanged (already so)'}`).join('\n'));
        return ADMIN_EXIT.OK;
      }),
    );

  clientCommand(users, 'delete', 'delete users from the database (and so from the devices); an unknown ID deletes nothing')
    .argument('<ids...>', 'user IDs')
    .action((ids: string[], options: ClientOptions) =>
      withDaemon(options, async (c, out) => {
        const response = await c.unary('DeleteUser', c.client.deleteUser, { ids });
        const json = { deleted: response.deleted, seq: response.seq };
        out.result(json, () => `deleted ${plural(json.deleted.length, 'user')}: ${json.deleted.join(', ')}`);
        return ADMIN_EXIT.OK;
      }),
    );

  // ---- import, export

  clientCommand(program, 'import', 'import a CSV or data file through the drop folder (exit 1 when refused, 2 when rows failed)')
    .argument('<file>', 'the file (*.csv, *.tgz); uploaded to the daemon, so it may be anywhere this user can read')
    .action((file: string, options: ClientOptions) =>
      withDaemon(options, async (c, out) => {
        const path = resolve(io.cwd, file);
        let size: number;
        try {
          const stats = await stat(path);
          if (!stats.isFile()) throw new Error('not a regular file');
          await access(path, constants.R_OK);
          size = stats.size;
        } catch (error) {
          throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
        }
        const input = createReadStream(path, { highWaterMark: 256 * 1024 });
        input.on('error', () => undefined);
        const stream = c.importStream({ name: basename(path), size }, input as AsyncIterable<Buffer>);
        let report: ImportReport | undefined;
        const finished = await drain(stream, (update) => {
          const u = update.update;
          if (u?.$case === 'progress') out.progress.update(u.value);
          else if (u?.$case === 'report') report = u.value;
        });
        input.destroy();
        if (!finished) {
          out.note('interrupted; the daemon stops the import at its last checkpoint');
          return ADMIN_EXIT.INTERRUPTED;
        }
        if (!report) throw new Error('the daemon ended the import without a report');
        const json = importJson(report);
        out.result(json, () => renderImport(json));
        if (report.state === 'failed') return ADMIN_EXIT.FAILURE;
        return report.failed > 0 ? ADMIN_EXIT.DIFFERENCES : ADMIN_EXIT.OK;
      }),
    );

  clientCommand(program, 'export', 'export every user as CSV or a data file (to the spool\'s outgoing/, or --out)')
    .requiredOption('--format <format>', 'csv or datafile')
    .option('-o, --out <file>', 'write the file here (a folder keeps the daemon\'s file name) instead of leaving it in outgoing/')
    .action((options: ClientOptions & { format: string; out?: string }) =>
      withDaemon(options, async (c, out) => {
        const download = options.out !== undefined;
        const stream = c.stream('Export', c.client.export, { format: options.format, download });
        let result: ExportResult | undefined;
        let target: string | undefined;
        let partial: string | undefined;
        let writer: ReturnType<typeof createWriteStream> | undefined;
        let received = 0;
        try {
          const finished = await drain(stream, async (update) => {
            const u = update.update;
            if (u?.$case === 'progress') out.progress.update(u.value);
            else if (u?.$case === 'result') {
              result = u.value;
              if (download) {
                const wanted = resolve(io.cwd, options.out!);
                const isDir = await stat(wanted).then((s) => s.isDirectory(), () => false);
                target = isDir ? join(wanted, basename(result.path)) : wanted;
                partial = `${target}.partial-${process.pid}`;
                writer = createWriteStream(partial, { mode: 0o640 });
              }
            } else if (u?.$case === 'chunk' && writer) {
              received += u.value.length;
              if (!writer.write(u.value)) await once(writer, 'drain');
              out.progress.update({ phase: 'download', done: received, total: result?.bytes ?? 0, unit: 'bytes' });
            }
          });
          if (!finished) {
            out.note('interrupted');
            return ADMIN_EXIT.INTERRUPTED;
          }
          if (!result) throw new Error('the daemon ended the export without a result');
          if (writer && partial && target) {
            writer.end();
            await once(writer, 'close');
            writer = undefined;
            if (received !== result.bytes) throw new Error(`the download ended after ${received} of ${result.bytes} bytes; nothing was written to ${target}`);
            await rename(partial, target);
            partial = undefined;
          }
        } finally {
          if (writer) {
            writer.destroy();
          }
          if (partial) await rm(partial, { force: true });
        }
        const file = target ?? result.path;
        const json = exportJson(result, file, download ? 'local' : 'daemon');
        out.result(json, () => renderExport(result!.format, result!.users, result!.bytes, file, download ? 'local' : 'daemon'));
        return ADMIN_EXIT.OK;
      }),
    );

  // ---- events, log level

  clientCommand(program, 'events', 'show the event log (newest last); --follow streams new events until Ctrl-C')
    .option('--follow', 'keep printing new events as they are written')
    .option('--since <time>', 'from this time: 15m, 2h, 3d, today, 2026-11-23, "2026-11-23 10:00"')
    .option('--until <time>', 'before this time (same forms as --since)')
    .option('--user <id>', 'only events about this user')
    .option('--device <id>', 'only events about this device', deviceIdValue)
    .option('--kind <kind>', 'only this kind, or a prefix ending in "." (sync.)')
    .option('--limit <n>', 'most events shown (default 100; with --follow, recent events shown first: default 10)', countValue(10_000))
    .action((options: ClientOptions & { follow?: boolean; since?: string; until?: string; user?: string; device?: number; kind?: string; limit?: number }) =>
      withDaemon(options, async (c, out) => {
        const time = (flag: string, text: string | undefined): number | undefined => {
          if (text === undefined) return undefined;
          const read = readTime(text, io.now());
          if (!read.ok) throw new UsageError(`${flag}: ${read.reason}`);
          return read.ms;
        };
        const sinceMs = time('--since', options.since);
        const untilMs = time('--until', options.until);
        const filter = {
          ...(options.user !== undefined ? { userId: options.user } : {}),
          ...(options.device !== undefined ? { deviceId: options.device } : {}),
          ...(options.kind !== undefined ? { kind: options.kind } : {}),
        };
        if (options.follow) {
          if (untilMs !== undefined) throw new UsageError('--until cannot be combined with --follow');
          const stream = c.stream('FollowEvents', c.client.followEvents, { ...filter, ...(sinceMs !== undefined ? { sinceMs } : {}), backlog: sinceMs === undefined ? (options.limit ?? 10) : 0 });
          await drain(stream, (event) => {
            const json = eventShape.toJson(event);
            out.raw(out.json ? `${JSON.stringify(json)}\n` : `${renderEvent(json)}\n`);
          });
          return ADMIN_EXIT.OK;
        }
        const response = await c.unary('Events', c.client.events, {
          ...filter,
          ...(sinceMs !== undefined ? { sinceMs } : {}),
          ...(untilMs !== undefined ? { untilMs } : {}),
          limit: options.limit ?? 100,
        });
        const json = { events: response.events.map(eventShape.toJson), more: response.more };
        out.result(json, () => {
          if (json.events.length === 0) return 'no events';
          const lines = json.events.map(renderEvent);
          if (json.more) lines.push(sinceMs === undefined ? '(older events match too: use --since or a larger --limit)' : '(more events match: use a larger --limit or a later --since)');
          return lines.join('\n');
        });
        return ADMIN_EXIT.OK;
      }),
    );

  clientCommand(program, 'log-level', 'change the daemon\'s log level until the next reload or restart')
    .argument('<level>', 'fatal, error, warn, info, debug, trace or silent')
    .action((level: string, options: ClientOptions) =>
      withDaemon(options, async (c, out) => {
        const response = await c.unary('SetLogLevel', c.client.setLogLevel, { level });
        const json = { level: response.level, previous: response.previous };
        out.result(json, () => `log level: ${json.level} (was ${json.previous}), until the next reload or restart`);
        return ADMIN_EXIT.OK;
      }),
    );
}

/** One line from stdin (a PIN piped in), without its line break. */
async function readLine(stdin: NodeJS.ReadableStream): Promise<string> {
  const lines = createInterface({ input: stdin, terminal: false });
  try {
    for await (const line of lines) return line.trim();
    return '';
  } finally {
    lines.close();
  }
}
