import { BinaryWriter } from '@bufbuild/protobuf/wire';
import {
  GetResponse,
  UserService,
  type UserAccessGroup,
  type UserCard,
  type UserFace,
  type UserFinger,
  type UserInfo,
  type UserJobCode,
  type UserServer,
} from '../../proto/gen/gsdk/user.js';
import { standInPinHash, standInPinHashWithKey } from '../pin-hash.js';
import { applyInfoMask, decodeStored, prepareUser, type StoredUser } from '../user-record.js';
import type { UserPartChange } from '../virtual-device.js';
import type { CallScope, CarriedUsers } from './calls.js';

/**
 * A GetResponse already encoded from the devices' stored bytes: Get is the hot read path,
 * and the stored encoding is exactly what field 1 (users) carries, so it is not decoded.
 */
class EncodedGetResponse {
  readonly bytes: Uint8Array;

  constructor(users: readonly StoredUser[]) {
    const writer = new BinaryWriter();
    for (const user of users) writer.uint32(10).bytes(user.bytes);
    this.bytes = writer.finish();
  }
}

/** gsdk.user.User with Get answering pre-encoded bytes. */
export const userServiceDefinition = {
  ...UserService,
  get: {
    ...UserService.get,
    responseSerialize: (value: GetResponse | EncodedGetResponse): Buffer =>
      value instanceof EncodedGetResponse
        ? Buffer.from(value.bytes.buffer, value.bytes.byteOffset, value.bytes.byteLength)
        : Buffer.from(GetResponse.encode(value).finish()),
  },
} as const;

function replacePart<K extends keyof UserInfo>(userID: string, key: K, value: UserInfo[K]): UserPartChange {
  return { userID, apply: (user) => ({ ...user, [key]: value }) };
}

function partsOf<T>(users: StoredUser[], pick: (info: UserInfo) => T): { userID: string; info: T }[] {
  return users.map((user) => ({ userID: user.id, info: pick(decodeStored(user)) }));
}

/** The users an Enroll or Update writes, for the faults that look at them. */
function writing(users: readonly UserInfo[]): CarriedUsers {
  return { ids: users.map((user) => user.hdr?.ID ?? ''), writes: true };
}

/** Get answers an EncodedGetResponse, which userServiceDefinition's serializer passes through. */
function preEncoded(response: EncodedGetResponse): GetResponse {
  return response as unknown as GetResponse;
}

/** `pinHashSalt`: another stand-in hash scheme (pin-hash.ts); absent, the default one. */
export function userService(scope: CallScope, pinHashSalt?: string): UserServer {
  return {
    getList: scope.unary(async (req, call) => scope.onDevice(req.deviceID, call, (d) => ({ hdrs: d.headers() }))),
    get: scope.unary(async (req, call) =>
      scope.onDevice(req.deviceID, call, (d) => preEncoded(new EncodedGetResponse(d.read(req.userIDs)))),
    ),
    getPartial: scope.unary(async (req, call) =>
      scope.onDevice(req.deviceID, call, (d) => ({
        users: d.read(req.userIDs).map((u) => applyInfoMask(decodeStored(u), req.infoMask)),
      })),
    ),

    enroll: scope.unary(async (req, call) => {
      const users = req.users.map(prepareUser);
      await scope.onDevice(req.deviceID, call, (d) => d.enroll(users, req.overwrite, 'gateway'), writing(req.users));
      return {};
    }),
    enrollMulti: scope.unary(async (req, call) => {
      // Encoded once for every device: the devices then share the records.
      const users = req.users.map(prepareUser);
      return scope.onDevices(req.deviceIDs, call, (d) => d.enroll(users, req.overwrite, 'gateway'), writing(req.users));
    }),
    update: scope.unary(async (req, call) => {
      await scope.onDevice(req.deviceID, call, (d) => d.update(req.users, 'gateway'), writing(req.users));
      return {};
    }),
    updateMulti: scope.unary(async (req, call) =>
      scope.onDevices(req.deviceIDs, call, (d) => d.update(req.users, 'gateway'), writing(req.users)),
    ),
    delete: scope.unary(async (req, call) => {
      await scope.onDevice(req.deviceID, call, (d) => d.remove(req.userIDs, 'gateway'), { ids: req.userIDs, writes: false });
      return {};
    }),
    deleteMulti: scope.unary(async (req, call) =>
      scope.onDevices(req.deviceIDs, call, (d) => d.remove(req.userIDs, 'gateway'), { ids: req.userIDs, writes: false }),
    ),
    deleteAll: scope.unary(async (req, call) => {
      await scope.onDevice(req.deviceID, call, (d) => d.removeAll('gateway'));
      return {};
    }),
    deleteAllMulti: scope.unary(async (req, call) => scope.onDevices(req.deviceIDs, call, (d) => d.removeAll('gateway'))),

    getCard: scope.unary(async (req, call) =>
      scope.onDevice(req.deviceID, call, (d) => ({
        userCards: partsOf(d.read(req.userIDs), (u) => u.cards).map(({ userID, info }) => ({ userID, cards: info })),
      })),
    ),
    setCard: scope.unary(async (req, call) => {
      const changes = req.userCards.map((c: UserCard) => replacePart(c.userID, 'cards', c.cards));
      await scope.onDevice(req.deviceID, call, (d) => d.updateParts(changes, 'gateway'));
      return {};
    }),
    setCardMulti: scope.unary(async (req, call) => {
      const changes = req.userCards.map((c: UserCard) => replacePart(c.userID, 'cards', c.cards));
      return scope.onDevices(req.deviceIDs, call, (d) => d.updateParts(changes, 'gateway'));
    }),

    getFinger: scope.unary(async (req, call) =>
      scope.onDevice(req.deviceID, call, (d) => ({
        userFingers: partsOf(d.read(req.userIDs), (u) => u.fingers).map(({ userID, info }) => ({ userID, fingers: info })),
      })),
    ),
    setFinger: scope.unary(async (req, call) => {
      const changes = req.userFingers.map((f: UserFinger) => replacePart(f.userID, 'fingers', f.fingers));
      await scope.onDevice(req.deviceID, call, (d) => d.updateParts(changes, 'gateway'));
      return {};
    }),
    setFingerMulti: scope.unary(async (req, call) => {
      const changes = req.userFingers.map((f: UserFinger) => replacePart(f.userID, 'fingers', f.fingers));
      return scope.onDevices(req.deviceIDs, call, (d) => d.updateParts(changes, 'gateway'));
    }),

    getFace: scope.unary(async (req, call) =>
      scope.onDevice(req.deviceID, call, (d) => ({
        userFaces: partsOf(d.read(req.userIDs), (u) => u.faces).map(({ userID, info }) => ({ userID, faces: info })),
      })),
    ),
    setFace: scope.unary(async (req, call) => {
      const changes = req.userFaces.map((f: UserFace) => replacePart(f.userID, 'faces', f.faces));
      await scope.onDevice(req.deviceID, call, (d) => d.updateParts(changes, 'gateway'));
      return {};
    }),
    setFaceMulti: scope.unary(async (req, call) => {
      const changes = req.userFaces.map((f: UserFace) => replacePart(f.userID, 'faces', f.faces));
      return scope.onDevices(req.deviceIDs, call, (d) => d.updateParts(changes, 'gateway'));
    }),

    getAccessGroup: scope.unary(async (req, call) =>
      scope.onDevice(req.deviceID, call, (d) => ({
        userAccessGroups: partsOf(d.read(req.userIDs), (u) => u.accessGroupIDs).map(({ userID, info }) => ({
          userID,
          accessGroupIDs: info,
        })),
      })),
    ),
    setAccessGroup: scope.unary(async (req, call) => {
      const changes = req.userAccessGroups.map((g: UserAccessGroup) => replacePart(g.userID, 'accessGroupIDs', g.accessGroupIDs));
      await scope.onDevice(req.deviceID, call, (d) => d.updateParts(changes, 'gateway'));
      return {};
    }),
    setAccessGroupMulti: scope.unary(async (req, call) => {
      const changes = req.userAccessGroups.map((g: UserAccessGroup) => replacePart(g.userID, 'accessGroupIDs', g.accessGroupIDs));
      return scope.onDevices(req.deviceIDs, call, (d) => d.updateParts(changes, 'gateway'));
    }),

    getJobCode: scope.unary(async (req, call) =>
      scope.onDevice(req.deviceID, call, (d) => ({
        userJobCodes: partsOf(d.read(req.userIDs), (u) => u.jobCodes).map(({ userID, info }) => ({ userID, jobCodes: info })),
      })),
    ),
    setJobCode: scope.unary(async (req, call) => {
      const changes = req.userJobCodes.map((j: UserJobCode) => replacePart(j.userID, 'jobCodes', j.jobCodes));
      await scope.onDevice(req.deviceID, call, (d) => d.updateParts(changes, 'gateway'));
      return {};
    }),
    setJobCodeMulti: scope.unary(async (req, call) => {
      const changes = req.userJobCodes.map((j: UserJobCode) => replacePart(j.userID, 'jobCodes', j.jobCodes));
      return scope.onDevices(req.deviceIDs, call, (d) => d.updateParts(changes, 'gateway'));
    }),

    getPinHash: scope.unary((req) => ({ hashVal: standInPinHash(req.PIN, pinHashSalt) })),
    getPinHashWithKey: scope.unary((req) => ({ hashVal: standInPinHashWithKey(req.PIN, req.hashKey) })),
    getStatistic: scope.unary(async (req, call) =>
      scope.onDevice(req.deviceID, call, (d) => ({ userStatistic: d.statistic() })),
    ),
  };
}
