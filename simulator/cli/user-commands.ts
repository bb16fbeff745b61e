import type { ServiceError } from '@grpc/grpc-js';
import type { Command } from 'commander';
import { UserInfo } from '../../proto/gen/gsdk/user.js';
import type { DumpUsersResponse } from '../../proto/gen/rollcall/sim/v1/sim.js';
import { call, callError, gatewayCommand, withClients, type GatewayOptions } from './control-client.js';
import { collect, deviceId } from './option-values.js';
import { describeUser, printResult, type SimCommandOutput } from './output.js';
import { addUserOptions, userFromOptions, type UserOptions } from './user-options.js';

/** The subcommands that act on a device's users as a person at the device would: enroll, update, delete, dump. */
export function registerUserCommands(sim: Command, out: SimCommandOutput): void {
  addUserOptions(gatewayCommand(sim, 'enroll', 'enroll a new user at a device, as a person at the device would (subCode 2 events)')).action(
    async (options: GatewayOptions & UserOptions) =>
      withClients(options, async ({ control, user }) => {
        const info = await userFromOptions(UserInfo.fromPartial({}), options, user);
        await call('EnrollAtDevice', control.enrollAtDevice.bind(control), { deviceID: options.device, user: info });
        printResult(out, options, { ok: true, deviceID: options.device, userID: options.user }, `enrolled user ${options.user} at device ${options.device}`);
      }),
  );

  addUserOptions(gatewayCommand(sim, 'update', 'edit a user at a device; parts not given are kept')).action(
    async (options: GatewayOptions & UserOptions) =>
      withClients(options, async ({ control, user }) => {
        const current = await call('ReadUsers', control.readUsers.bind(control), { deviceID: options.device, userIDs: [options.user] });
        const info = await userFromOptions(current.users[0] ?? UserInfo.fromPartial({}), options, user);
        await call('UpdateAtDevice', control.updateAtDevice.bind(control), { deviceID: options.device, user: info });
        printResult(out, options, { ok: true, deviceID: options.device, userID: options.user }, `updated user ${options.user} at device ${options.device}`);
      }),
  );

  gatewayCommand(sim, 'delete', 'delete users at a device')
    .requiredOption('--device <id>', 'device ID', deviceId)
    .requiredOption('--user <id>', 'user ID (repeatable)', collect)
    .action(async (options: GatewayOptions & { device: number; user: string[] }) =>
      withClients(options, async ({ control }) => {
        await call('DeleteAtDevice', control.deleteAtDevice.bind(control), { deviceID: options.device, userIDs: options.user });
        printResult(out, options, { ok: true, deviceID: options.device, userIDs: options.user }, `deleted ${options.user.join(', ')} at device ${options.device}`);
      }),
    );

  gatewayCommand(sim, 'dump', 'print the users a device holds (human: counts; --json: everything, bytes in base64)')
    .requiredOption('--device <id>', 'device ID', deviceId)
    .option('--user <id>', 'only these users (repeatable)', collect)
    .action(async (options: GatewayOptions & { device: number; user?: string[] }) =>
      withClients(options, async ({ control }) => {
        let users: UserInfo[];
        if (options.user) {
          users = (await call('ReadUsers', control.readUsers.bind(control), { deviceID: options.device, userIDs: options.user })).users;
        } else {
          users = [];
          const stream = control.dumpUsers({ deviceID: options.device, pageSize: 0 });
          try {
            for await (const page of stream as AsyncIterable<DumpUsersResponse>) users.push(...page.users);
          } catch (error) {
            throw callError('DumpUsers', error as ServiceError);
          }
        }
        printResult(out, options, { deviceID: options.device, users }, users.length === 0 ? `device ${options.device}: no users` : users.map(describeUser).join('\n'));
      }),
    );
}
