import { readFile } from 'node:fs/promises';
import {
  Metadata,
  credentials as grpcCredentials,
  status,
  type CallOptions,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import { Command, Option } from 'commander';
import { RollcallError } from '../daemon/errors.js';
import { Type as CardType } from '../proto/gen/gsdk/card.js';
import { Type as DeviceType } from '../proto/gen/gsdk/device.js';
import { TemplateFormat } from '../proto/gen/gsdk/finger.js';
import { UserClient, UserHdr, UserInfo } from '../proto/gen/gsdk/user.js';
import { ControlClient, type DeviceState, type DumpUsersResponse } from '../proto/gen/rollcall/sim/v1/sim.js';
import { loadSimulatorConfig } from './config-file.js';
import { csnCardFromDecimal, decimalOfCsnCard, simulatedFinger } from './conventions.js';
import { configSchema, devicesFromConfig, type SimulatorConfig } from './schema.js';
import { startSimulator } from './server.js';

/**
 * `rollcall sim`: run a standalone simulator, or drive a running one through its control
 * service (rollcall.sim.v1.Control) as a person at a device would.
 */

const CALL_DEADLINE_MS = 10_000;

interface GatewayOptions {
  gateway: string;
  ca?: string;
  json?: boolean;
}

// ---- parsing of option values

function integer(name: string, min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^-?[0-9]+$/.test(text.trim()) || value < min || value > max) {
      throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
}

const deviceId = integer('--device', 1, 0xffff_ffff);
const count = integer('a count', 0, 0xffff_ffff);

function fraction(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `--error-rate must be from 0 to 1, got ${JSON.stringify(text)}`);
  }
  return value;
}

function grpcCode(text: string): number {
  const byName = (status as unknown as Record<string, number>)[text.toUpperCase()];
  if (byName !== undefined) return byName;
  return integer('a gRPC code', 1, 16)(text);
}

function templateFormat(text: string): TemplateFormat {
  const value = TemplateFormat[text.toUpperCase() as keyof typeof TemplateFormat];
  if (value === undefined || value === TemplateFormat.UNRECOGNIZED) {
    throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `template format must be SUPREMA, ISO or ANSI, got ${JSON.stringify(text)}`);
  }
  return value;
}

function deviceType(text: string): DeviceType {
  const byName = DeviceType[text.toUpperCase() as keyof typeof DeviceType];
  if (typeof byName === 'number' && byName > 0) return byName;
  return integer('--type', 1, 255)(text);
}

function boolean(text: string): boolean {
  if (/^(true|yes|on|1)$/i.test(text)) return true;
  if (/^(false|no|off|0)$/i.test(text)) return false;
  throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `expected true or false, got ${JSON.stringify(text)}`);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

// ---- talking to a running simulator

async function channelCredentials(options: GatewayOptions): Promise<ChannelCredentials> {
  return options.ca ? grpcCredentials.createSsl(await readFile(options.ca)) : grpcCredentials.createInsecure();
}

function deadline(): Date {
  return new Date(Date.now() + CALL_DEADLINE_MS);
}

function callError(method: string, error: ServiceError): RollcallError {
  const codeName = status[error.code] ?? String(error.code);
  return new RollcallError('ROLLCALL_ERR_GATEWAY_CALL', `${method}: ${error.details || error.message} (${codeName})`, {
    cause: error,
    detail: { method, code: error.code },
  });
}

/** Runs `use` with a connected Control client (and a User client for PIN hashes), closing both after. */
async function withClients<T>(
  options: GatewayOptions,
  use: (clients: { control: ControlClient; user: UserClient }) => Promise<T>,
): Promise<T> {
  const creds = await channelCredentials(options);
  const control = new ControlClient(options.gateway, creds);
  const user = new UserClient(options.gateway, creds);
  try {
    return await use({ control, user });
  } finally {
    control.close();
    user.close();
  }
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

function call<Req, Res>(name: string, method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, new Metadata(), { deadline: deadline() }, (error, response) =>
      error ? reject(callError(name, error)) : resolve(response),
    );
  });
}

/** Where the commands print; process.stdout unless a test or an embedding program says otherwise. */
export interface SimCommandOutput {
  write(text: string): void;
}

const STDOUT: SimCommandOutput = { write: (text) => void process.stdout.write(text) };

function printResult(out: SimCommandOutput, options: { json?: boolean }, json: unknown, human: string): void {
  out.write(options.json ? `${JSON.stringify(json, jsonBytes)}\n` : `${human}\n`);
}

/** JSON of protobuf objects: bytes as base64. */
function jsonBytes(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString('base64');
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

// ---- what a person at the device enters

interface UserOptions {
  device: number;
  user: string;
  name?: string;
  card?: string[];
  pin?: string;
  fingers?: number;
  fingerTemplateFormat?: TemplateFormat;
  accessGroup?: string[];
}

async function pinHash(user: UserClient, pin: string): Promise<Buffer> {
  const response = await call('GetPINHash', user.getPinHash.bind(user), { PIN: pin });
  return response.hashVal;
}

/** Applies the parts given on the command line to `base`; parts not given keep base's value. */
async function userFromOptions(base: UserInfo, options: UserOptions, user: UserClient): Promise<UserInfo> {
  const next: UserInfo = { ...base, hdr: UserHdr.fromPartial({ ...base.hdr, ID: options.user, updateMask: 0 }) };
  if (options.name !== undefined) next.name = options.name;
  if (options.card !== undefined) {
    try {
      next.cards = options.card.map(csnCardFromDecimal);
    } catch (error) {
      throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `--card: ${(error as Error).message}`);
    }
  }
  if (options.pin !== undefined) next.PIN = options.pin === '' ? Buffer.alloc(0) : await pinHash(user, options.pin);
  if (options.fingers !== undefined || options.fingerTemplateFormat !== undefined) {
    const format = options.fingerTemplateFormat ?? TemplateFormat.SUPREMA;
    next.fingers = Array.from({ length: options.fingers ?? 1 }, (_, i) => simulatedFinger(format, i));
  }
  if (options.accessGroup !== undefined) next.accessGroupIDs = options.accessGroup.map(integer('--access-group', 1, 0xffff_ffff));
  return next;
}

function addUserOptions(command: Command): Command {
  return command
    .requiredOption('--device <id>', 'device ID', deviceId)
    .requiredOption('--user <id>', 'user ID')
    .option('--name <name>', 'user name')
    .option('--card <csn>', 'a CSN card, in decimal (repeatable; replaces the cards)', collect)
    .option('--pin <pin>', 'PIN, hashed by the simulator\'s GetPINHash (empty string clears it)')
    .option('--fingers <n>', 'number of synthetic fingers (replaces the fingers)', count)
    .option('--finger-template-format <format>', 'SUPREMA, ISO or ANSI: the tag of the synthetic templates (default SUPREMA)', templateFormat)
    .option('--access-group <id>', 'access group ID (repeatable; replaces the access groups)', collect);
}

function describeUser(user: UserInfo): string {
  const cards = user.cards.map((c) => (c.type === CardType.CSN ? decimalOfCsnCard(c) : `${CardType[c.type] ?? c.type}`));
  const parts = [
    `user ${user.hdr?.ID ?? ''}`,
    `name=${JSON.stringify(user.name)}`,
    `cards=${user.cards.length}${cards.length > 0 ? ` [${cards.join(', ')}]` : ''}`,
    `fingers=${user.fingers.length}`,
    `faces=${user.faces.length}`,
    `pin=${user.PIN.length > 0 ? 'set' : 'none'}`,
    `accessGroups=[${user.accessGroupIDs.join(',')}]`,
  ];
  return parts.join('  ');
}

function describeDevice(device: DeviceState): string {
  const fault = device.fault;
  const faults: string[] = [];
  if (fault) {
    if (fault.latencyMs > 0) faults.push(`latency=${fault.latencyMs}ms`);
    if (fault.failNextCount > 0) faults.push(`failNext=${fault.failNextCount}x${status[fault.failNextCode] ?? fault.failNextCode}`);
    if (fault.errorRate > 0) faults.push(`errorRate=${fault.errorRate} ${status[fault.errorRateCode] ?? fault.errorRateCode}`);
    if (fault.hangCount > 0) faults.push(`hang=${fault.hangCount}`);
  }
  return [
    `device ${device.deviceID}`,
    DeviceType[device.type] ?? String(device.type),
    device.connected ? 'connected' : 'disconnected',
    `users=${device.numOfUsers}/${device.maxUsers}`,
    `format=${TemplateFormat[device.templateFormat] ?? device.templateFormat}`,
    `alphanumericID=${device.useAlphanumericID}${device.alphanumericIDSupported ? '' : ' (unsupported)'}`,
    `monitoring=${device.monitoring}`,
    `lastEvent=${device.lastEventID}`,
    `${device.IPAddr}:${device.port}`,
    ...(faults.length > 0 ? [`faults: ${faults.join(' ')}`] : []),
  ].join('  ');
}

// ---- the standalone simulator

interface StandaloneOptions {
  host?: string;
  port?: number;
  devices?: number;
  firstId?: number;
  config?: string;
  json?: boolean;
  tlsCert?: string;
  tlsKey?: string;
}

async function runStandalone(options: StandaloneOptions, out: SimCommandOutput): Promise<void> {
  let config: SimulatorConfig;
  if (options.config) {
    config = await loadSimulatorConfig(options.config);
    if (options.devices !== undefined) {
      config = { ...config, devices: undefined, count: options.devices, firstId: options.firstId ?? config.firstId };
    }
  } else {
    config = configSchema.parse({ count: options.devices ?? 3, firstId: options.firstId ?? 1001 });
  }
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', '--tls-cert and --tls-key go together');
  }
  const tls = options.tlsCert && options.tlsKey ? { cert: await readFile(options.tlsCert), key: await readFile(options.tlsKey) } : undefined;
  const simulator = await startSimulator({
    host: options.host ?? config.host,
    port: options.port ?? config.port,
    devices: devicesFromConfig(config),
    realtimeQueueDefault: config.realtimeQueueSize,
    ...(tls ? { tls } : {}),
  });
  printResult(
    out,
    options,
    { address: simulator.address, port: simulator.port, tls: tls !== undefined, deviceIds: simulator.deviceIds },
    `rollcall gateway simulator listening on ${simulator.address} (${tls ? 'TLS' : 'plaintext'})\n` +
      `devices: ${simulator.deviceIds.join(', ')}\nstop with Ctrl-C or SIGTERM`,
  );
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await simulator.stop();
}

// ---- registration

function gatewayCommand(parent: Command, name: string, description: string): Command {
  return (
    parent
      .command(name)
      .description(description)
      .requiredOption('--gateway <address>', 'address of a running simulator, host:port')
      .option('--ca <file>', 'CA certificate (PEM) when the simulator serves TLS')
      .option('--json', 'print machine-readable JSON')
      // Unless the root program enables positional options, `sim` itself takes a --json
      // written after the subcommand; hand it on.
      .hook('preAction', (command) => {
        if (parent.opts().json === true) command.setOptionValue('json', true);
      })
  );
}

/** Adds `sim` and its subcommands to the rollcall command line. */
export function registerSimCommands(program: Command, out: SimCommandOutput = STDOUT): void {
  const sim = program
    .command('sim')
    .description('G-SDK device gateway simulator: run one (default), or act on a running one')
    // With positional options on the root too, `sim --json` and `sim dump --json` stay apart.
    .enablePositionalOptions()
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on; 0 picks a free one (default 4000)', integer('--port', 0, 65535))
    .option('--devices <n>', 'number of virtual devices (default 3)', integer('--devices', 1, 100_000))
    .option('--first-id <id>', 'device ID of the first device (default 1001)', deviceId)
    .option('--config <file>', 'simulator config, YAML or JSON (see simulator/README.md)')
    .option('--tls-cert <file>', 'serve TLS with this server certificate (PEM)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--json', 'print the address and device IDs as JSON')
    .action(async (options: StandaloneOptions) => runStandalone(options, out));

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
