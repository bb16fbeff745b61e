/**
 * `rollcall users list|show|set|delete`: the users in the database. `set` takes flags or a
 * JSON/YAML file, and a PIN from the command line or stdin.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { usersListJson } from '../json-shapes.js';
import { renderUser, renderUsers } from '../render.js';
import { plural } from '../format.js';
import { anyField, userFromFlags, usersFromFile, type UserItem, type UserSetFlags } from '../user-flags.js';
import type { UserView } from '../user-view.js';
import { leftOffList } from '../shapes/left-off.js';
import type { ClientCommands, ClientOptions } from './client-commands.js';
import { collect, countValue } from './option-values.js';
import { ADMIN_EXIT, InputError, UsageError } from './output.js';

export function registerUserCommands(program: Command, commands: ClientCommands): void {
  const users = program.command('users').description('list, show, set and delete users in the database');

  commands.define(users, 'list', 'list users in ID order, a page at a time')
    .option('--after <id>', 'start after this user ID')
    .option('--limit <n>', 'users per page (default 100)', countValue(10_000))
    .option('--all', 'every user, page after page')
    .option('--foreign-pin-hash', 'only users whose PIN hash another gateway made (their PIN is not sent until set or imported again)')
    .action((options: ClientOptions & { after?: string; limit?: number; all?: boolean; foreignPinHash?: boolean }) =>
      commands.withDaemon(options, async (c, out) => {
        const limit = options.limit ?? (options.all ? 1000 : 100);
        let after = options.after ?? '';
        const foreignPinHash = options.foreignPinHash === true;
        if (!options.all) {
          const page = await c.unary('ListUsers', c.client.listUsers, { after, limit, foreignPinHash });
          const views = page.usersJson.map((text) => JSON.parse(text) as UserView);
          const json = usersListJson(views, page.nextAfter, page.total);
          out.result(json, () => renderUsers(views, json.next, page.total, 0));
          return ADMIN_EXIT.OK;
        }
        // --all writes one JSON document (or one table per page) as pages come, so memory stays flat.
        let shown = 0;
        if (out.json) out.raw('{"users":[');
        for (;;) {
          const page = await c.unary('ListUsers', c.client.listUsers, { after, limit, foreignPinHash });
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

  commands.define(users, 'show', 'show one user (credentials as counts and card types)')
    .argument('<id>', 'user ID')
    .action((id: string, options: ClientOptions) =>
      commands.withDaemon(options, async (c, out) => {
        const { userJson, leftOffByDevice } = await c.unary('GetUser', c.client.getUser, { id });
        const view = JSON.parse(userJson) as UserView;
        // Per device, what its copy of the user leaves off (it cannot hold it) and why.
        const leftOff = leftOffByDevice.map((d) => ({ deviceId: d.deviceId, leftOff: leftOffList.toJson(d.leftOff) }));
        out.result({ ...view, leftOffByDevice: leftOff }, () => renderUser(view, leftOff));
        return ADMIN_EXIT.OK;
      }),
    );

  commands.define(users, 'set', 'create or change a user from flags, or users from a JSON/YAML file (all or none)')
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
      commands.withDaemon(options, async (c, out) => {
        const { socket: _s, config: _c, json: _j, file, replace, pin, ...flags } = options;
        let items: UserItem[];
        if (file !== undefined) {
          if (id !== undefined || anyField(flags) || pin !== undefined) throw new UsageError('with --file, give the users in the file (no ID or field flags)');
          let text: string;
          try {
            text = await readFile(resolve(commands.io.cwd, file), 'utf8');
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
          const plain = pin === '-' ? await readLine(commands.io.stdin) : (pin ?? '');
          if (pin === '-' && plain === '') throw new UsageError('--pin -: no PIN on stdin');
          items = [{ json: JSON.stringify(built.user), pin: plain }];
        }
        const response = await c.unary('SetUser', c.client.setUser, { users: items.map((i) => ({ userJson: i.json, pin: i.pin })), replace: replace === true });
        const json = { users: response.users.map((u) => ({ id: u.id, created: u.created, changed: u.changed })), seq: response.seq };
        out.result(json, () => json.users.map((u) => `user ${u.id}: ${u.created ? 'created' : u.changed ? 'updated' : 'unchanged (already so)'}`).join('\n'));
        return ADMIN_EXIT.OK;
      }),
    );

  commands.define(users, 'delete', 'delete users from the database (and so from the devices); an unknown ID deletes nothing')
    .argument('<ids...>', 'user IDs')
    .action((ids: string[], options: ClientOptions) =>
      commands.withDaemon(options, async (c, out) => {
        const response = await c.unary('DeleteUser', c.client.deleteUser, { ids });
        const json = { deleted: response.deleted, seq: response.seq };
        out.result(json, () => `deleted ${plural(json.deleted.length, 'user')}: ${json.deleted.join(', ')}`);
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
