/**
 * `rollcall sync`, `verify`, `plan` and `confirm`: letting changes through, checking devices
 * (exit 2 when one differs), what a sync would change, and held mass removals.
 */
import type { Command } from 'commander';
import type { CheckResult, UserSyncResult } from '../../../proto/gen/rollcall/admin/v1/admin.js';
import { confirmJson, planJson, syncJson, verifyJson } from '../json-shapes.js';
import { renderChecks, renderPlan, renderUserSync } from '../render.js';
import { plural } from '../format.js';
import type { ClientCommands, ClientOptions } from './client-commands.js';
import { countValue, deviceIdValue } from './option-values.js';
import { ADMIN_EXIT, UsageError } from './output.js';

/** Exit code of a set of checks: a failed check is 1, a device that differs is 2. */
function checksExit(checks: CheckResult[]): number {
  return checks.some((x) => x.error !== '') ? ADMIN_EXIT.FAILURE : checks.some((x) => !x.inSync) ? ADMIN_EXIT.DIFFERENCES : ADMIN_EXIT.OK;
}

export function registerSyncCommands(program: Command, commands: ClientCommands): void {
  commands.define(program, 'sync', 'send pending changes now (all, one user, one device or one location); --full also checks and repairs')
    .option('--user <id>', 'push one user now to every device that should hold it')
    .option('--device <id>', 'only this device', deviceIdValue)
    .option('--location <name>', 'only the devices of this location')
    .option('--full', 'check each device and repair the differences (a diff repair, never a wipe)')
    .action((options: ClientOptions & { user?: string; device?: number; location?: string; full?: boolean }) =>
      commands.withDaemon(options, async (c, out) => {
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
        const finished = await commands.drain(stream, (update) => {
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

  commands.define(program, 'verify', 'check devices against the database without changing them (exit 2 when one differs)')
    .option('--device <id>', 'only this device', deviceIdValue)
    .option('--location <name>', 'only the devices of this location')
    .option('--deep', 'compare the content of every user, not only IDs and credential counts')
    .action((options: ClientOptions & { device?: number; location?: string; deep?: boolean }) =>
      commands.withDaemon(options, async (c, out) => {
        const stream = c.stream('Verify', c.client.verify, {
          ...(options.device !== undefined ? { deviceId: options.device } : {}),
          ...(options.location !== undefined ? { location: options.location } : {}),
          deep: options.deep === true,
        });
        let expected = 0;
        const checks: CheckResult[] = [];
        const finished = await commands.drain(stream, (update) => {
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

  commands.define(program, 'plan', 'show what a sync would change on each device, without doing it')
    .option('--device <id>', 'only this device', deviceIdValue)
    .option('--location <name>', 'only the devices of this location')
    .option('--max-ids <n>', 'user IDs listed per list (counts are always whole; default 100)', countValue(100_000))
    .action((options: ClientOptions & { device?: number; location?: string; maxIds?: number }) =>
      commands.withDaemon(options, async (c, out) => {
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

  commands.define(program, 'confirm', 'let held mass removals go ahead (all devices, or one)')
    .option('--device <id>', 'only this device', deviceIdValue)
    .action((options: ClientOptions & { device?: number }) =>
      commands.withDaemon(options, async (c, out) => {
        const response = await c.unary('Confirm', c.client.confirm, options.device !== undefined ? { deviceId: options.device } : {});
        const json = confirmJson(response);
        out.result(json, () =>
          json.released.length === 0 ? 'no removals were held' : json.released.map((r) => `device ${r.deviceId}: ${plural(r.removals, 'removal')} confirmed; they go ahead now`).join('\n'),
        );
        return ADMIN_EXIT.OK;
      }),
    );
}
