import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { RollcallError } from '../daemon/errors.js';
import { ConnectService } from '../proto/gen/gsdk/connect.js';
import { DeviceService } from '../proto/gen/gsdk/device.js';
import { EventService } from '../proto/gen/gsdk/event.js';
import { FaceService } from '../proto/gen/gsdk/face.js';
import { FingerService } from '../proto/gen/gsdk/finger.js';
import { SystemService } from '../proto/gen/gsdk/system.js';
import { ControlService } from '../proto/gen/rollcall/sim/v1/sim.js';
import { DeviceControl } from './device-control.js';
import { checkFleet, type DeviceSpec } from './device-spec.js';
import { SimulatedGateway, type GatewayStats } from './gateway.js';
import { enforceKeepalivePolicy, GATEWAY_KEEPALIVE_POLICY, type KeepalivePolicy } from './keepalive-policy.js';
import { CallScope } from './services/calls.js';
import { CallerLog } from './caller-log.js';
import { connectService } from './services/connect.js';
import { controlService } from './services/control.js';
import { deviceService } from './services/device.js';
import { eventService } from './services/event.js';
import { faceService } from './services/face.js';
import { fingerService } from './services/finger.js';
import { systemService } from './services/system.js';
import { userService, userServiceDefinition } from './services/user.js';

/** A real gateway accepts messages up to 72 MiB (rpc_server.max_recv_size). */
const MAX_RECEIVE_BYTES = 72 * 1024 * 1024;
const REALTIME_QUEUE_DEFAULT = 1024;
/** How long stop() lets calls finish before closing connections hard. */
const SHUTDOWN_GRACE_MS = 2000;

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  devices: DeviceSpec[];
  /** Serve TLS with this server certificate (PEM) instead of plaintext. */
  tls?: { cert: Buffer; key: Buffer };
  /** Queue length of a SubscribeRealtimeLog/SubscribeStatus stream that asks for queueSize 0; default 1024. */
  realtimeQueueDefault?: number;
  /** GetPINHash answers with another stand-in scheme (simulator/pin-hash.ts), as a different gateway would. */
  pinHashSalt?: string;
  /**
   * How often a client may ping (keepalive-policy.ts); default a real gateway's: grpc-go's
   * EnforcementPolicy defaults, MinTime 5 minutes, no pings without a stream.
   */
  keepalive?: KeepalivePolicy;
}

export interface RunningSimulator {
  /** host:port to dial, e.g. '127.0.0.1:40123'. */
  readonly address: string;
  readonly port: number;
  /** IDs of the virtual devices, in the order they were added. */
  readonly deviceIds: number[];
  /** Whether the keepalive policy is enforced (false only if grpc-js's internals changed). */
  readonly keepaliveEnforced: boolean;
  /** In-process access to one device; throws a NOT_FOUND SimError for an unknown ID. */
  device(id: number): DeviceControl;
  addDevice(spec: DeviceSpec): DeviceControl;
  removeDevice(id: number): void;
  /** Stream deliveries and drops, shared user records. */
  stats(): GatewayStats;
  /** Who called each device (caller-log.ts; Control.ReadCallers over gRPC). */
  readonly callers: CallerLog;
  /** Ends streams, answers waiting calls, closes the server and releases every handle. */
  stop(): Promise<void>;
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function bind(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port)));
  });
}

/**
 * Starts a G-SDK device gateway simulator (gsdk.* V1.8 services plus rollcall.sim.v1.Control)
 * on a real gRPC server.
 */
export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const fleetProblem = checkFleet(options.devices);
  if (fleetProblem) throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `simulator: ${fleetProblem}`);
  const host = options.host ?? '127.0.0.1';
  const gateway = new SimulatedGateway({
    realtimeQueueDefault: options.realtimeQueueDefault ?? REALTIME_QUEUE_DEFAULT,
    clock: () => Math.floor(Date.now() / 1000),
  });
  for (const spec of options.devices) gateway.addDevice(spec);

  const stopping = new AbortController();
  const callers = new CallerLog();
  const scope = new CallScope(gateway, stopping.signal, callers);
  const server = new Server({ 'grpc.max_receive_message_length': MAX_RECEIVE_BYTES });
  const serve = (definition: ServiceDefinition, implementation: object): void => {
    server.addService(definition, implementation as UntypedServiceImplementation);
  };
  serve(userServiceDefinition as unknown as ServiceDefinition, userService(scope, options.pinHashSalt));
  serve(ConnectService, connectService(scope));
  serve(EventService, eventService(scope));
  serve(DeviceService, deviceService(scope));
  serve(SystemService, systemService(scope));
  serve(FingerService, fingerService(scope));
  serve(FaceService, faceService(scope));
  serve(ControlService, controlService(scope));

  const credentials = options.tls
    ? ServerCredentials.createSsl(null, [{ cert_chain: options.tls.cert, private_key: options.tls.key }], false)
    : ServerCredentials.createInsecure();
  let port: number;
  try {
    port = await bind(server, formatAddress(host, options.port ?? 0), credentials);
  } catch (error) {
    gateway.close();
    server.forceShutdown();
    throw error;
  }
  const keepaliveEnforced = enforceKeepalivePolicy(server, options.keepalive ?? GATEWAY_KEEPALIVE_POLICY);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= new Promise<void>((resolve) => {
      stopping.abort();
      gateway.close();
      // grpc-js's tryShutdown never calls back for a session that was closing while it ran
      // (one the keepalive policy just closed): after the grace, close hard and be done.
      const hard = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(hard);
        resolve();
      });
    });
    return stopped;
  };

  return {
    address: formatAddress(host, port),
    port,
    keepaliveEnforced,
    callers,
    get deviceIds() {
      return gateway.deviceIds();
    },
    device: (id) => {
      gateway.requireDevice(id);
      return new DeviceControl(gateway, id);
    },
    addDevice: (spec) => new DeviceControl(gateway, gateway.addDevice(spec).id),
    removeDevice: (id) => gateway.removeDevice(id),
    stats: () => gateway.stats(),
    stop,
  };
}
