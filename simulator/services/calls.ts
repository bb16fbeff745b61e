import { status, type handleUnaryCall, type sendUnaryData, type ServerErrorResponse, type ServerUnaryCall } from '@grpc/grpc-js';
import type { ErrorResponse } from '../../proto/gen/gsdk/err.js';
import type { SimulatedGateway } from '../gateway.js';
import { multiFailure } from '../multi-error.js';
import { SimError, isSimError } from '../sim-error.js';
import type { VirtualDevice } from '../virtual-device.js';
import type { CallerLog } from '../caller-log.js';
import { CALLER_METADATA_KEY } from '../conventions.js';

/** A call that ended without an answer: the client cancelled it or its deadline passed. */
class CallAbandoned extends Error {
  constructor() {
    super('call abandoned by the client');
    this.name = 'CallAbandoned';
  }
}

/** A Multi call in which some devices failed; becomes the status-details trailer. */
class MultiCallFailed extends Error {
  readonly deviceErrors: ErrorResponse[];
  readonly deviceCount: number;

  constructor(deviceErrors: ErrorResponse[], deviceCount: number) {
    super(`${deviceErrors.length} of ${deviceCount} devices failed`);
    this.name = 'MultiCallFailed';
    this.deviceErrors = deviceErrors;
    this.deviceCount = deviceCount;
  }
}

/** An injected fault that fails a whole Multi call, without per-device errors (poisonWholeCall). */
class WholeCallFault extends Error {
  readonly code: status;

  constructor(code: status, message: string) {
    super(message);
    this.name = 'WholeCallFault';
    this.code = code;
  }
}

type AnyUnaryCall = ServerUnaryCall<unknown, unknown>;

/** The users a user call carries, for the faults that look at them (FaultPlan.poisonUserIDs, slowAboveUsers). */
export interface CarriedUsers {
  ids: readonly string[];
  /** Enroll or Update: the call writes these users (poisoned users apply); false for a delete. */
  writes: boolean;
}

/** Who made a call: the rollcall instance it names (CALLER_METADATA_KEY), else its peer address. */
export function callerOf(call: Pick<AnyUnaryCall, 'metadata' | 'getPeer'>): string {
  const [named] = call.metadata.get(CALLER_METADATA_KEY);
  if (typeof named === 'string' && named !== '') return named;
  return call.getPeer();
}

/**
 * What every gsdk service needs to serve a call: the gateway, the simulator's stop signal,
 * the way a call reaches a device (connection check, then that device's faults), and the log
 * of who called each device (caller-log.ts).
 */
export class CallScope {
  readonly gateway: SimulatedGateway;
  readonly callers: CallerLog;
  private readonly stopping: AbortSignal;

  constructor(gateway: SimulatedGateway, stopping: AbortSignal, callers: CallerLog) {
    this.gateway = gateway;
    this.stopping = stopping;
    this.callers = callers;
  }

  /** Wraps a promise-returning handler into a grpc-js unary handler. */
  unary<Req, Res>(run: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      Promise.resolve()
        .then(() => run(call.request, call))
        .then(
          (response) => callback(null, response),
          (error: unknown) => callback(toServiceError(error)),
        );
    };
  }

  /**
   * The device a call addresses, after the gateway connection check and the device's
   * faults: a hang waits for the client to give up, latency delays, an injected error throws.
   */
  async reach(deviceId: number, call: AnyUnaryCall, users?: CarriedUsers): Promise<VirtualDevice> {
    // Counted on arrival, before the connection check: a call sent is a call received.
    this.callers.record(deviceId, callerOf(call), Date.now());
    const device = this.gateway.reach(deviceId);
    const decision = device.faults.next();
    if (decision.kind === 'hang') return this.hang(call);
    if (decision.latencyMs > 0) await this.wait(decision.latencyMs, call);
    if (decision.kind === 'fail') throw new SimError(decision.code, `device ${deviceId}: ${decision.reason}`);
    const forUsers = users ? device.faults.forUsers(users.ids, users.writes) : undefined;
    if (forUsers?.kind === 'slow') await this.wait(forUsers.latencyMs, call);
    if (forUsers?.kind === 'fail') {
      const message = `device ${deviceId}: ${forUsers.reason}`;
      throw forUsers.wholeCall ? new WholeCallFault(forUsers.code, message) : new SimError(forUsers.code, message);
    }
    // The device may have dropped off while the call waited.
    return this.gateway.reach(deviceId);
  }

  /** A single-device call: reach the device, then act on it synchronously (atomic). */
  async onDevice<T>(deviceId: number, call: AnyUnaryCall, act: (device: VirtualDevice) => T, users?: CarriedUsers): Promise<T> {
    const device = await this.reach(deviceId, call, users);
    return act(device);
  }

  /**
   * A Multi call: every device is reached and acted on independently; the devices that
   * succeed keep their change. Resolves with an empty error list only when all succeeded,
   * otherwise throws the per-device errors (sent as the status-details trailer).
   */
  async onDevices(
    deviceIds: readonly number[],
    call: AnyUnaryCall,
    act: (device: VirtualDevice) => void,
    users?: CarriedUsers,
  ): Promise<{ deviceErrors: ErrorResponse[] }> {
    const unique = [...new Set(deviceIds)];
    // Each device waiting on latency or a hang listens for the call's cancellation.
    call.setMaxListeners(Math.max(call.getMaxListeners(), unique.length + 10));
    const outcomes = await Promise.all(
      unique.map(async (deviceId): Promise<ErrorResponse | undefined> => {
        try {
          act(await this.reach(deviceId, call, users));
          return undefined;
        } catch (error) {
          if (!isSimError(error)) throw error;
          return { deviceID: deviceId, code: error.code, msg: error.message };
        }
      }),
    );
    const deviceErrors = outcomes.filter((e): e is ErrorResponse => e !== undefined);
    if (deviceErrors.length > 0) throw new MultiCallFailed(deviceErrors, unique.length);
    return { deviceErrors: [] };
  }

  private async wait(ms: number, call: AnyUnaryCall): Promise<void> {
    const outcome = await this.until(call, ms);
    if (outcome !== 'elapsed') this.ended(outcome);
  }

  /** Never answers: returns only when the client gives up or the simulator stops. */
  private async hang(call: AnyUnaryCall): Promise<never> {
    const outcome = await this.until(call, undefined);
    return this.ended(outcome === 'elapsed' ? 'cancelled' : outcome);
  }

  private ended(outcome: 'cancelled' | 'stopping'): never {
    if (outcome === 'stopping') throw new SimError(status.UNAVAILABLE, 'the simulator is stopping');
    throw new CallAbandoned();
  }

  /**
   * Waits for `ms` (forever when undefined), the client's cancel (or deadline), or the
   * simulator's stop, whichever comes first, and removes its listeners afterwards.
   */
  private until(call: AnyUnaryCall, ms: number | undefined): Promise<'elapsed' | 'cancelled' | 'stopping'> {
    if (this.stopping.aborted) return Promise.resolve('stopping');
    if (call.cancelled) return Promise.resolve('cancelled');
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: 'elapsed' | 'cancelled' | 'stopping'): void => {
        if (timer) clearTimeout(timer);
        call.removeListener('cancelled', onCancel);
        this.stopping.removeEventListener('abort', onStop);
        resolve(outcome);
      };
      const onCancel = (): void => finish('cancelled');
      const onStop = (): void => finish('stopping');
      call.once('cancelled', onCancel);
      this.stopping.addEventListener('abort', onStop, { once: true });
      if (ms !== undefined) timer = setTimeout(() => finish('elapsed'), ms);
    });
  }
}

function toServiceError(error: unknown): Partial<ServerErrorResponse> {
  if (error instanceof MultiCallFailed) {
    return multiFailure(error.deviceErrors, error.deviceCount);
  }
  if (isSimError(error) || error instanceof WholeCallFault) return { code: error.code, details: error.message };
  if (error instanceof CallAbandoned) return { code: status.CANCELLED, details: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: status.INTERNAL, details: `simulator fault: ${message}` };
}
