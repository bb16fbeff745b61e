import { Option, type Command } from 'commander';
import type { Type as DeviceType } from '../../proto/gen/gsdk/device.js';
import type { TemplateFormat } from '../../proto/gen/gsdk/finger.js';
import { call, gatewayCommand, withClients, type GatewayOptions } from './control-client.js';
import { boolean, count, deviceId, deviceType, fraction, grpcCode, templateFormat } from './option-values.js';
import { describeDevice, printResult, type SimCommandOutput } from './output.js';

const RESET_CODES = { cleared: 0x4200, database: 0x4501, factory: 0x4502, none: 0 } as const;

function grpcCodeOrOk(text: string): number {
  return text.toUpperCase() === 'OK' || text === '0' ? 0 : grpcCode(text);
}

/**
 * The subcommands that act on the virtual devices themselves: list them, take them off the
 * network and back, inject faults, change limits, add and remove them.
 */
export function registerDeviceCommands(sim: Command, out: SimCommandOutput): void {
  gatewayCommand(sim, 'devices', 'list the virtual devices').action(async (options: GatewayOptions) =>
    withClients(options, async ({ control }) => {
      const { devices } = await call('ListDevices', control.listDevices.bind(control), {});
      printResult(out, options, { devices }, devices.map(describeDevice).join('\n'));
    }),
  );

  gatewayCommand(sim, 'disconnect', 'drop a device off the network')
    .requiredOption('--device <id>', 'device ID', deviceId)
    .action(async (options: GatewayOptions & { device: number }) =>
      withClients(options, async ({ control }) => {
        await call('DisconnectDevice', control.disconnectDevice.bind(control), { deviceID: options.device });
        printResult(out, options, { ok: true, deviceID: options.device }, `device ${options.device} disconnected`);
      }),
    );

  gatewayCommand(sim, 'reconnect', 'bring a device back on the network')
    .requiredOption('--device <id>', 'device ID', deviceId)
    .action(async (options: GatewayOptions & { device: number }) =>
      withClients(options, async ({ control }) => {
        await call('ReconnectDevice', control.reconnectDevice.bind(control), { deviceID: options.device });
        printResult(out, options, { ok: true, deviceID: options.device }, `device ${options.device} reconnected`);
      }),
    );

  gatewayCommand(sim, 'fault', 'inject faults into the gsdk calls to a device (only the given keys change)')
    .requiredOption('--device <id>', 'device ID', deviceId)
    .option('--latency-ms <ms>', 'added latency on every call', count)
    .option('--fail-next <n>', 'the next n calls fail', count)
    .option('--fail-code <code>', 'gRPC code of --fail-next, a name or number (default UNAVAILABLE)', grpcCode)
    .option('--error-rate <r>', 'each call fails with this probability (0..1)', fraction)
    .option('--error-code <code>', 'gRPC code of --error-rate (default UNAVAILABLE)', grpcCode)
    .option('--seed <n>', 'seed of the --error-rate draws', count)
    .option('--hang <n>', 'the next n calls never answer (the client\'s deadline ends them)', count)
    .option('--poison <ids>', 'comma-separated user IDs: a write call carrying one fails on the device', (v: string) => v.split(',').map((id) => id.trim()).filter((id) => id !== ''))
    .option('--poison-code <code>', 'gRPC code of --poison, a name or number (default INTERNAL)', grpcCode)
    .option('--poison-whole-call', 'a poisoned call fails as a whole, without per-device errors')
    .option('--slow-above <n>', 'a user call with more than n users is slow (see --slow-ms)', count)
    .option('--slow-ms <ms>', 'delay of such a call; 0 answers DEADLINE_EXCEEDED for the device at once', count)
    .action(
      async (
        options: GatewayOptions & {
          device: number;
          latencyMs?: number;
          failNext?: number;
          failCode?: number;
          errorRate?: number;
          errorCode?: number;
          seed?: number;
          hang?: number;
          poison?: string[];
          poisonCode?: number;
          poisonWholeCall?: boolean;
          slowAbove?: number;
          slowMs?: number;
        },
      ) =>
        withClients(options, async ({ control }) => {
          const { fault } = await call('SetFault', control.setFault.bind(control), {
            deviceID: options.device,
            latencyMs: options.latencyMs,
            failNextCount: options.failNext,
            failNextCode: options.failCode,
            errorRate: options.errorRate,
            errorRateCode: options.errorCode,
            errorRateSeed: options.seed,
            hangCount: options.hang,
            poisonUserIDs: options.poison ?? [],
            poisonCode: options.poisonCode,
            poisonWholeCall: options.poisonWholeCall,
            slowAboveUsers: options.slowAbove,
            slowLatencyMs: options.slowMs,
          });
          printResult(out, options, { deviceID: options.device, fault }, `device ${options.device} faults: ${JSON.stringify(fault)}`);
        }),
    );

  gatewayCommand(sim, 'clear-faults', 'remove every fault of a device')
    .requiredOption('--device <id>', 'device ID', deviceId)
    .action(async (options: GatewayOptions & { device: number }) =>
      withClients(options, async ({ control }) => {
        await call('ClearFaults', control.clearFaults.bind(control), { deviceID: options.device });
        printResult(out, options, { ok: true, deviceID: options.device }, `device ${options.device}: faults cleared`);
      }),
    );

  gatewayCommand(sim, 'reset-log', 'clear or reset the event log of a device, as done at the device (IDs start at 1 again)')
    .requiredOption('--device <id>', 'device ID', deviceId)
    .addOption(new Option('--as <kind>', 'what happened: cleared (0x4200), database (0x4501, also deletes every user), factory (0x4502, likewise) or none (no event)').choices(Object.keys(RESET_CODES)).default('cleared'))
    .action(async (options: GatewayOptions & { device: number; as: keyof typeof RESET_CODES }) =>
      withClients(options, async ({ control }) => {
        const { event } = await call('ResetEventLog', control.resetEventLog.bind(control), { deviceID: options.device, eventCode: RESET_CODES[options.as] });
        printResult(out, options, { deviceID: options.device, event: event ?? null }, `device ${options.device}: event log reset${event ? ` (event ${event.ID}: 0x${event.eventCode.toString(16)})` : ''}`);
      }),
    );

  gatewayCommand(sim, 'read-fault', 'make the reads of these users (Get, GetPartial, GetCard, ...) fail on a device')
    .requiredOption('--device <id>', 'device ID', deviceId)
    .requiredOption('--user <id...>', 'user IDs')
    .option('--code <code>', 'gRPC code, a name or number (default INTERNAL; OK lifts the fault)', grpcCodeOrOk, 13)
    .action(async (options: GatewayOptions & { device: number; user: string[]; code: number }) =>
      withClients(options, async ({ control }) => {
        await call('SetUserReadFault', control.setUserReadFault.bind(control), { deviceID: options.device, userIDs: options.user, code: options.code });
        printResult(out, options, { ok: true, deviceID: options.device, userIDs: options.user, code: options.code }, `device ${options.device}: reads of ${options.user.join(', ')} ${options.code === 0 ? 'work again' : `fail with code ${options.code}`}`);
      }),
    );

  gatewayCommand(sim, 'capacity', 'override limits and settings of a device')
    .requiredOption('--device <id>', 'device ID', deviceId)
    .option('--max-users <n>', 'user capacity', count)
    .option('--max-cards <n>', 'cards per user', count)
    .option('--max-fingers <n>', 'fingers per user', count)
    .option('--max-faces <n>', 'faces per user', count)
    .option('--template-format <format>', 'SUPREMA, ISO or ANSI', templateFormat)
    .option('--alphanumeric-supported <bool>', 'whether the device can use alphanumeric IDs', boolean)
    .option('--alphanumeric <bool>', 'SystemConfig.useAlphanumericID', boolean)
    .action(
      async (
        options: GatewayOptions & {
          device: number;
          maxUsers?: number;
          maxCards?: number;
          maxFingers?: number;
          maxFaces?: number;
          templateFormat?: TemplateFormat;
          alphanumericSupported?: boolean;
          alphanumeric?: boolean;
        },
      ) =>
        withClients(options, async ({ control }) => {
          const { device } = await call('SetCapacity', control.setCapacity.bind(control), {
            deviceID: options.device,
            maxUsers: options.maxUsers,
            maxCardsPerUser: options.maxCards,
            maxFingerprintsPerUser: options.maxFingers,
            maxFacesPerUser: options.maxFaces,
            templateFormat: options.templateFormat,
            alphanumericIDSupported: options.alphanumericSupported,
            useAlphanumericID: options.alphanumeric,
          });
          printResult(out, options, { device }, device ? describeDevice(device) : '');
        }),
    );

  gatewayCommand(sim, 'add-device', 'add a virtual device (connected at once unless device-to-server)')
    .requiredOption('--device <id>', 'device ID', deviceId)
    .option('--type <type>', 'device.Type, a name or number', deviceType)
    .option('--max-users <n>', 'user capacity', count)
    .option('--template-format <format>', 'SUPREMA, ISO or ANSI', templateFormat)
    .option('--alphanumeric <bool>', 'SystemConfig.useAlphanumericID', boolean)
    .option('--ip <address>', 'device address')
    .addOption(new Option('--face <kind>', "face camera (default the model's)").choices(['none', 'ir', 'visual']))
    .option('--pin <bool>', "PIN entry (default the model's)", boolean)
    .addOption(new Option('--connection-mode <mode>', 'who dials').choices(['server-to-device', 'device-to-server']))
    .action(
      async (
        options: GatewayOptions & {
          device: number;
          type?: DeviceType;
          maxUsers?: number;
          templateFormat?: TemplateFormat;
          alphanumeric?: boolean;
          ip?: string;
          face?: string;
          pin?: boolean;
          connectionMode?: string;
        },
      ) =>
        withClients(options, async ({ control }) => {
          const { device } = await call('AddDevice', control.addDevice.bind(control), {
            device: {
              deviceID: options.device,
              type: options.type,
              maxUsers: options.maxUsers,
              templateFormat: options.templateFormat,
              useAlphanumericID: options.alphanumeric,
              IPAddr: options.ip,
              face: options.face,
              pin: options.pin,
              connectionMode: options.connectionMode,
            },
          });
          printResult(out, options, { device }, device ? describeDevice(device) : '');
        }),
    );

  gatewayCommand(sim, 'remove-device', 'remove a virtual device')
    .requiredOption('--device <id>', 'device ID', deviceId)
    .action(async (options: GatewayOptions & { device: number }) =>
      withClients(options, async ({ control }) => {
        await call('RemoveDevice', control.removeDevice.bind(control), { deviceID: options.device });
        printResult(out, options, { ok: true, deviceID: options.device }, `device ${options.device} removed`);
      }),
    );
}
