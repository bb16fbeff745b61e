/**
 * The gateway simulator in its own process (`rollcall sim`), driven only through its control
 * service (rollcall.sim.v1.Control) over loopback gRPC, as an operator or a test rig drives a
 * real gateway from outside. The engine under test then shares neither its event loop nor its
 * heap with the devices it talks to, as on a site where the gateway is another program.
 */
import { credentials, Metadata, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { ControlClient, type DeviceCallers, type Fault, type ReadCallersRequest, type SetCapacityRequest, type SetFaultRequest } from '../../proto/gen/rollcall/sim/v1/sim.js';
import type { UserInfo } from '../../proto/gen/gsdk/user.js';
import { startSimProcess, type SimProcess as Running } from '../../bench/lib/sim-process.js';

const CALL_DEADLINE_MS = 10_000;

type Unary<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (error: ServiceError | null, response: Res) => void) => unknown;

export class SimProcess {
  readonly address: string;
  readonly deviceIds: number[];
  readonly #running: Running;
  readonly #control: ControlClient;

  private constructor(running: Running) {
    this.#running = running;
    this.address = running.address;
    this.deviceIds = running.deviceIds;
    this.#control = new ControlClient(running.address, credentials.createInsecure());
  }

  /**
   * Starts `rollcall sim` with `count` devices from `firstId` (bench/lib/sim-process.ts), on a
   * free loopback port, or on `port` (a gateway that comes back where it was).
   */
  static async start(count: number, firstId: number, port?: number): Promise<SimProcess> {
    return new SimProcess(await startSimProcess({ devices: count, firstId, heapMb: 512, ...(port === undefined ? {} : { port }) }));
  }

  #call<Req, Res>(method: Unary<Req, Res>, request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      method.call(this.#control, request, new Metadata(), { deadline: Date.now() + CALL_DEADLINE_MS }, (error, response) => (error ? reject(error) : resolve(response)));
    });
  }

  setFault(deviceID: number, change: Partial<Omit<SetFaultRequest, 'deviceID'>>): Promise<Fault | undefined> {
    return this.#call(this.#control.setFault as Unary<SetFaultRequest, { fault?: Fault }>, { ...change, poisonUserIDs: change.poisonUserIDs ?? [], deviceID }).then((r) => r.fault);
  }

  async clearFaults(deviceID: number): Promise<void> {
    await this.#call(this.#control.clearFaults as Unary<{ deviceID: number }, unknown>, { deviceID });
  }

  async setCapacity(deviceID: number, change: Omit<SetCapacityRequest, 'deviceID'>): Promise<void> {
    await this.#call(this.#control.setCapacity as Unary<SetCapacityRequest, unknown>, { deviceID, ...change });
  }

  async disconnect(deviceID: number): Promise<void> {
    await this.#call(this.#control.disconnectDevice as Unary<{ deviceID: number }, unknown>, { deviceID });
  }

  async reconnect(deviceID: number): Promise<void> {
    await this.#call(this.#control.reconnectDevice as Unary<{ deviceID: number }, unknown>, { deviceID });
  }

  /** Every user the device holds, as the gateway stores it (DumpUsers). */
  async users(deviceID: number): Promise<UserInfo[]> {
    const out: UserInfo[] = [];
    const stream = this.#control.dumpUsers({ deviceID, pageSize: 0 }, { deadline: Date.now() + CALL_DEADLINE_MS });
    for await (const page of stream as AsyncIterable<{ users: UserInfo[] }>) out.push(...page.users);
    return out;
  }

  /** Who called each of these devices (every device called when empty), runs oldest first (simulator/caller-log.ts). */
  async callers(deviceIDs: number[] = []): Promise<DeviceCallers[]> {
    return (await this.#call(this.#control.readCallers as Unary<ReadCallersRequest, { devices: DeviceCallers[] }>, { deviceIDs })).devices;
  }

  /** SIGTERM, and waits for the exit. */
  async stop(): Promise<void> {
    this.#control.close();
    await this.#running.stop();
  }
}
