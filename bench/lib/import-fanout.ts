/**
 * The fan-out of an import, on the user's path and against its floor (issue 14 item 3).
 *
 * Measured: `rollcall import FILE` returned (every row committed); from then until every
 * device's cursor is at the head, read from the daemon's admin socket (ListDevices, as
 * `rollcall devices` reads it) every POLL_MS. The daemon is a process of its own with its
 * default config (its device-event follower included), the simulator another.
 *
 * Floor, in the same run on the same simulator process once the daemon is stopped: the users
 * the devices hold, read back from the first device (User.GetList, User.Get) before the
 * clock, the devices emptied, then pre-encoded EnrollMulti batches of the engine's batch
 * size to every device, one after another: what gRPC and the simulator alone take to carry
 * the same users.
 */
import { AdminConnection } from '../../daemon/admin/client.js';
import { EnrollMultiRequest, GetListRequest, GetRequest, UserService, type UserInfo } from '../../proto/gen/gsdk/user.js';
import { emptyDevices, sendEnrollBatches, userCounts } from './device-ops.js';
import type { GatewayClient } from './gateway-client.js';

/** How often the devices' cursors are read while the fan-out runs. */
export const POLL_MS = 5;

/** Users asked per User.Get when the devices' users are read back. */
const READ_BACK = 500;

/** Resolves with performance.now() once every one of `devices` devices has nothing pending; rejects past `timeoutMs`. */
export async function waitAllAcknowledged(socket: string, devices: number, timeoutMs: number): Promise<number> {
  const admin = await AdminConnection.open(socket);
  try {
    const until = performance.now() + timeoutMs;
    let last = '';
    for (;;) {
      const listed = await admin.unary('ListDevices', admin.client.listDevices, {});
      const now = performance.now();
      const behind = listed.devices.filter((d) => Number(d.pending) > 0);
      if (listed.devices.length === devices && behind.length === 0) return now;
      last = `${listed.devices.length} devices listed, ${behind.length} behind (e.g. ${behind[0]?.id}: ${behind[0]?.pending} pending)`;
      if (now > until) throw new Error(`the fan-out did not end in ${timeoutMs / 1000} s: ${last}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    admin.close();
  }
}

/** The users `deviceId` holds, as it holds them. */
export async function readBackUsers(gateway: GatewayClient, deviceId: number): Promise<UserInfo[]> {
  const { hdrs } = await gateway.call(UserService.getList, GetListRequest.fromPartial({ deviceID: deviceId }));
  const users: UserInfo[] = [];
  for (let i = 0; i < hdrs.length; i += READ_BACK) {
    const userIDs = hdrs.slice(i, i + READ_BACK).map((h) => h.ID);
    users.push(...(await gateway.call(UserService.get, GetRequest.fromPartial({ deviceID: deviceId, userIDs }))).users);
  }
  return users;
}

/** The floor: `users` to every device in pre-encoded EnrollMulti batches; returns its seconds. */
export async function fanoutFloor(gateway: GatewayClient, deviceIds: readonly number[], users: readonly UserInfo[], batch: number): Promise<number> {
  const requests: Buffer[] = [];
  for (let i = 0; i < users.length; i += batch) {
    requests.push(Buffer.from(EnrollMultiRequest.encode({ deviceIDs: [...deviceIds], users: users.slice(i, i + batch), overwrite: true }).finish()));
  }
  await emptyDevices(gateway, deviceIds);
  const t0 = performance.now();
  await sendEnrollBatches(gateway, requests);
  const seconds = (performance.now() - t0) / 1000;
  const counts = await userCounts(gateway, deviceIds);
  const wrong = counts.filter((c) => c !== users.length).length;
  if (wrong > 0) throw new Error(`fan-out floor: ${wrong} of ${deviceIds.length} devices do not hold ${users.length} users`);
  return seconds;
}
