/**
 * One protobuf encoding per user object (issue 14: one encoding per user and device profile).
 * The sync engine sizes every user of a batch to cut it (`size`), then sends the same objects
 * to every group of devices of the batch, and devices of one shape the same copy object
 * (daemon/sync/placement.ts). Each user's UserInfo is encoded when it is first sized or sent,
 * and those bytes are spliced into every EnrollMulti request that carries that object.
 *
 * Keyed by the object, held weakly: users are values that are never changed in place (an edit
 * is a new object read from the store, and a device's copy that leaves something off is a new
 * object too), so bytes stay right for as long as their object lives, an edited user is
 * encoded anew, and an entry goes when its user does.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { User } from '../../../daemon/model/user.js';
import { EnrollMultiRequest, UserInfo, UserService, type EnrollMultiResponse } from '../../../proto/gen/gsdk/user.js';
import type { MethodDefinition } from './channel.js';
import { toUserInfo } from './user-info.js';

/** EnrollMultiRequest field 2 (users), length-delimited: (2 << 3) | 2. */
const USERS_TAG = 18;
/** EnrollMultiRequest field 3 (overwrite), varint: (3 << 3) | 0. */
const OVERWRITE_TAG = 24;

export class UserEncodings {
  readonly #bytes = new WeakMap<User, Uint8Array>();

  /** The user's UserInfo as sent to a device (updateMask 0), encoded once per object. */
  bytes(user: User): Uint8Array {
    let bytes = this.#bytes.get(user);
    if (bytes === undefined) {
      bytes = UserInfo.encode(toUserInfo(user)).finish();
      this.#bytes.set(user, bytes);
    }
    return bytes;
  }

  /** Bytes the user takes in an Enroll request: its UserInfo plus a tag and a length prefix (<= 6 bytes). */
  size(user: User): number {
    return this.bytes(user).length + 6;
  }

  /** An EnrollMulti request of `users` to `deviceIds`, carrying each user's cached bytes. */
  enrollMulti(deviceIds: readonly number[], users: readonly User[], overwrite: boolean): EncodedEnrollMulti {
    return { deviceIDs: deviceIds, users: users.map((user) => this.bytes(user)), overwrite };
  }
}

/** An EnrollMultiRequest whose users are encoded already. */
export interface EncodedEnrollMulti {
  deviceIDs: readonly number[];
  users: readonly Uint8Array[];
  overwrite: boolean;
}

/**
 * The bytes of an EnrollMultiRequest, the same as ts-proto's encoder writes for the decoded
 * request (fields in number order, deviceIDs packed, overwrite only when true).
 */
export function encodeEnrollMulti(request: EncodedEnrollMulti): Buffer {
  // The users' bytes are copied once, into the request: only the small parts between them
  // (the device IDs, each user's tag and length) go through a writer.
  const head = EnrollMultiRequest.encode({ deviceIDs: [...request.deviceIDs], users: [], overwrite: false }).finish();
  const parts: Uint8Array[] = [head];
  let length = head.length;
  // Every user's tag and length prefix, in one buffer: a tag byte and a varint of at most 5.
  const prefixes = Buffer.allocUnsafe(request.users.length * 6);
  let at = 0;
  for (const user of request.users) {
    const start = at;
    prefixes[at++] = USERS_TAG;
    let n = user.length;
    while (n > 0x7f) {
      prefixes[at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    prefixes[at++] = n;
    parts.push(prefixes.subarray(start, at), user);
    length += at - start + user.length;
  }
  if (request.overwrite) {
    const tail = new BinaryWriter().uint32(OVERWRITE_TAG).bool(true).finish();
    parts.push(tail);
    length += tail.length;
  }
  return Buffer.concat(parts, length);
}

/** User.EnrollMulti with its users encoded already (UserEncodings). */
export const enrollMultiEncoded: MethodDefinition<EncodedEnrollMulti, EnrollMultiResponse> = {
  path: UserService.enrollMulti.path,
  requestSerialize: encodeEnrollMulti,
  responseDeserialize: UserService.enrollMulti.responseDeserialize,
};
