/**
 * Letting changes through and looking at devices: Sync, Verify, Plan, Confirm, and where a
 * device's event log is read from (SetEventStart).
 */
import { removalNeedsConfirmation } from '../../sync/planner.js';
import type {
  CheckResult,
  ConfirmRequest,
  ConfirmResponse,
  DevicePlan,
  PlanRequest,
  PlanResponse,
  SetEventStartRequest,
  SetEventStartResponse,
  SyncRequest,
  SyncUpdate,
  VerifyRequest,
  VerifyUpdate,
} from '../../../proto/gen/rollcall/admin/v1/admin.js';
import type { AdminEngine } from '../backend.js';
import type { DeviceStatus } from '../../sync/fleet.js';
import { invalidField, notFound, notRunning } from '../request-error.js';
import { deviceShape } from '../shapes/device.js';
import { EventStartError } from '../../sync/device-events.js';
import * as check from '../requests.js';
import { checkShape } from '../shapes/check.js';
import { leftOffList } from '../shapes/left-off.js';
import { errorText, type Emit, type RequestContext } from './context.js';

/** Largest user-ID list per plan list unless asked (counts are always whole). */
const DEFAULT_PLAN_IDS = 100;
const MAX_PLAN_IDS = 100_000;

/**
 * The devices of `selected` this instance serves. On a store several instances share, each
 * device is checked and synced by the instance holding its lease (daemon/cluster/member.ts);
 * asking one instance covers the devices it holds, and a device asked for by ID that another
 * instance holds is refused with its holder's name.
 */
function servedHere(engine: AdminEngine, selected: readonly DeviceStatus[], byId: boolean): DeviceStatus[] {
  const self = engine.cluster?.().instanceId;
  if (self === undefined) return [...selected];
  const served = selected.filter((d) => d.heldBy === self);
  const [asked] = selected;
  if (byId && asked && served.length === 0) {
    throw notFound('deviceId', asked.heldBy === undefined ? `device ${asked.id} is held by no instance at the moment (its lease is changing hands); ask again shortly` : `device ${asked.id} is served by instance ${asked.heldBy}; ask that instance`);
  }
  return served;
}

export class SyncService {
  readonly #c: RequestContext;

  constructor(context: RequestContext) {
    this.#c = context;
  }

  /** Checks the selected devices one task each, emitting each result as it comes. */
  async #checkEach(engine: AdminEngine, ids: readonly number[], options: { deep: boolean; repair: boolean }, emit: (result: CheckResult) => Promise<void>): Promise<void> {
    await Promise.all(
      ids.map(async (deviceId) => {
        let result: CheckResult;
        try {
          const [found] = await engine.verify({ deviceId, deep: options.deep, repair: options.repair });
          result = found ? checkShape.toWire(found) : checkShape.toWire({ deviceId, method: options.deep ? 'deep' : 'headers', inSync: false, differences: 0, enrolled: 0, removed: 0, held: 0, leftAlone: 0, error: 'the device is no longer known' });
        } catch (error) {
          result = checkShape.toWire({ deviceId, method: options.deep ? 'deep' : 'headers', inSync: false, differences: 0, enrolled: 0, removed: 0, held: 0, leftAlone: 0, error: errorText(error) });
        }
        await emit(result);
      }),
    );
  }

  async sync(request: SyncRequest, emit: Emit<SyncUpdate>): Promise<void> {
    const engine = this.#c.engine();
    if (request.userId !== undefined) {
      if (request.deviceId !== undefined || request.location !== undefined || request.full) {
        throw invalidField('userId', 'exclusive', 'a user sync goes to every device that should hold the user; it cannot be combined with deviceId, location or full');
      }
      const id = check.userId('userId', request.userId);
      const inDatabase = (await this.#c.store().getUser(id)) !== undefined;
      const outcome = await engine.syncUser(id);
      await emit({
        update: {
          $case: 'user',
          value: {
            userId: id,
            inDatabase,
            enrolled: outcome.enrolled,
            removed: outcome.removed,
            failed: Object.entries(outcome.failed).map(([deviceId, message]) => ({ deviceId: Number(deviceId), message })),
          },
        },
      });
      return;
    }
    const filter = { ...(request.deviceId !== undefined ? { deviceId: request.deviceId } : {}), ...(request.location !== undefined ? { location: request.location } : {}) };
    const selected = servedHere(engine, check.selectDevices(engine.status(), filter), request.deviceId !== undefined);
    const released = await engine.sync(filter);
    await emit({ update: { $case: 'started', value: { deviceIds: released, full: request.full } } });
    if (request.full) {
      await this.#checkEach(engine, selected.map((d) => d.id), { deep: false, repair: true }, (value) => emit({ update: { $case: 'check', value } }));
    }
  }

  async verify(request: VerifyRequest, emit: Emit<VerifyUpdate>): Promise<void> {
    const engine = this.#c.engine();
    const filter = { ...(request.deviceId !== undefined ? { deviceId: request.deviceId } : {}), ...(request.location !== undefined ? { location: request.location } : {}) };
    const ids = servedHere(engine, check.selectDevices(engine.status(), filter), request.deviceId !== undefined).map((d) => d.id);
    await emit({ update: { $case: 'started', value: { deviceIds: ids, deep: request.deep } } });
    await this.#checkEach(engine, ids, { deep: request.deep, repair: false }, (value) => emit({ update: { $case: 'check', value } }));
  }

  async plan(request: PlanRequest): Promise<PlanResponse> {
    const engine = this.#c.engine();
    const maxIds = check.pageLimit('maxIds', request.maxIds, DEFAULT_PLAN_IDS, MAX_PLAN_IDS);
    const filter = { ...(request.deviceId !== undefined ? { deviceId: request.deviceId } : {}), ...(request.location !== undefined ? { location: request.location } : {}) };
    const selected = servedHere(engine, check.selectDevices(engine.status(), filter), request.deviceId !== undefined);
    const devices: DevicePlan[] = [];
    for (const device of selected) {
      const [preview] = device.connected ? await engine.plan({ deviceId: device.id }) : [];
      if (!preview) {
        devices.push({ deviceId: device.id, connected: false, enrollCount: 0, removeCount: 0, skippedCount: 0, enroll: [], remove: [], skipped: [], truncated: false, removalNeedsConfirmation: false, leftOff: [] });
        continue;
      }
      const truncated = preview.enroll.length > maxIds || preview.remove.length > maxIds || preview.skipped.length > maxIds;
      // The device's user count from its last check stands in for what it holds now.
      const holding = device.userCount;
      devices.push({
        deviceId: device.id,
        connected: true,
        enrollCount: preview.enroll.length,
        removeCount: preview.remove.length,
        skippedCount: preview.skipped.length,
        enroll: preview.enroll.slice(0, maxIds),
        remove: preview.remove.slice(0, maxIds),
        skipped: preview.skipped.slice(0, maxIds),
        truncated,
        removalNeedsConfirmation: holding !== undefined && removalNeedsConfirmation(preview.remove.length, holding, engine.config.massRemoval),
        leftOff: leftOffList.toWire(preview.leftOff),
      });
    }
    return { devices };
  }

  async confirm(request: ConfirmRequest): Promise<ConfirmResponse> {
    const engine = this.#c.engine();
    const devices = check.selectDevices(engine.status(), request.deviceId !== undefined ? { deviceId: request.deviceId } : {});
    const held = new Map(devices.filter((d) => d.heldRemoval).map((d) => [d.id, d.heldRemoval!.removals]));
    const released = await engine.confirmRemovals(request.deviceId);
    return { released: released.map((deviceId) => ({ deviceId, removals: held.get(deviceId) ?? 0 })) };
  }

  async setEventStart(request: SetEventStartRequest): Promise<SetEventStartResponse> {
    const engine = this.#c.engine();
    if (!engine.setEventStart) throw notRunning('device events are not followed, so their start cannot be set');
    check.selectDevices(engine.status(), { deviceId: request.deviceId });
    const start = request.start;
    if (!start) throw invalidField('start', 'required', 'give an event ID from 1, or latest');
    if (start.$case === 'eventId' && (!Number.isInteger(start.value) || start.value < 1 || start.value > 0xffff_ffff)) {
      throw invalidField('start.eventId', 'range', `must be an event ID from 1 to 4294967295 (got ${start.value})`);
    }
    if (start.$case === 'latest' && !start.value) throw invalidField('start.latest', 'required', 'latest must be true when given');
    let status;
    try {
      status = await engine.setEventStart(request.deviceId, start.$case === 'eventId' ? start.value : 'latest');
    } catch (error) {
      if (error instanceof EventStartError) throw invalidField('start.eventId', 'range', error.message);
      throw error;
    }
    if (!status) throw invalidField('deviceId', 'known', `device ${request.deviceId} is no longer served`);
    return { device: deviceShape.toWire(status) };
  }
}
