/**
 * Plain gsdk calls the benchmarks make beside rollcall: emptying devices between runs,
 * filling them for a setup, counting what they hold, and the pre-encoded EnrollMulti
 * batches of the fan-out floor.
 */
import type { User } from '../../daemon/model/user.js';
import { toUserInfo } from '../../plugins/transports/gsdk/user-info.js';
import {
  DeleteAllMultiRequest,
  EnrollMultiRequest,
  EnrollMultiResponse,
  UserService,
} from '../../proto/gen/gsdk/user.js';
import type { ErrorResponse } from '../../proto/gen/gsdk/err.js';
import type { GatewayClient } from './gateway-client.js';

function throwOnDeviceErrors(what: string, errors: readonly ErrorResponse[]): void {
  const failed = errors.filter((e) => e.code !== 0);
  if (failed.length > 0) throw new Error(`${what} failed on ${failed.length} device(s), e.g. ${failed[0]!.deviceID}: ${failed[0]!.msg}`);
}

/** Deletes every user of every device (DeleteAllMulti). */
export async function emptyDevices(gateway: GatewayClient, deviceIds: readonly number[]): Promise<void> {
  const response = await gateway.call(UserService.deleteAllMulti, DeleteAllMultiRequest.fromPartial({ deviceIDs: [...deviceIds] }));
  throwOnDeviceErrors('DeleteAllMulti', response.deviceErrors);
}

/** How many users each device holds (GetStatistic). */
export async function userCounts(gateway: GatewayClient, deviceIds: readonly number[]): Promise<number[]> {
  const counts: number[] = [];
  for (const deviceID of deviceIds) {
    const response = await gateway.call(UserService.getStatistic, { deviceID });
    counts.push(response.userStatistic?.numOfUsers ?? 0);
  }
  return counts;
}

/** EnrollMulti requests (overwrite) of `batch` users each to every device, encoded now. */
export function encodeEnrollBatches(deviceIds: readonly number[], users: readonly User[], batch: number): Buffer[] {
  const requests: Buffer[] = [];
  for (let i = 0; i < users.length; i += batch) {
    const request = EnrollMultiRequest.fromPartial({ deviceIDs: [...deviceIds], users: users.slice(i, i + batch).map((u) => toUserInfo(u)), overwrite: true });
    requests.push(Buffer.from(EnrollMultiRequest.encode(request).finish()));
  }
  return requests;
}

/** Sends pre-encoded EnrollMulti requests one after another; throws if any device refused. */
export async function sendEnrollBatches(gateway: GatewayClient, requests: readonly Buffer[]): Promise<void> {
  for (const request of requests) {
    const response = EnrollMultiResponse.decode(await gateway.callEncoded(UserService.enrollMulti.path, request));
    throwOnDeviceErrors('EnrollMulti', response.deviceErrors);
  }
}

/** Fills devices with users (a setup step, not a measurement). */
export async function populateDevices(gateway: GatewayClient, deviceIds: readonly number[], users: readonly User[], batch = 1000): Promise<void> {
  for (let i = 0; i < users.length; i += batch) {
    await sendEnrollBatches(gateway, encodeEnrollBatches(deviceIds, users.slice(i, i + batch), batch));
  }
}
