/**
 * Conversion between the site's User (daemon/model/user.ts: binary values as base64) and
 * the wire's gsdk.user.UserInfo (binary values as bytes). Only what a device holds crosses:
 * server-only fields (department, email, custom fields, ...) never leave the server.
 */
import { emptyUser, type Face, type User } from '../../../daemon/model/user.js';
import type { Type as CardWireType } from '../../../proto/gen/gsdk/card.js';
import {
  InfoMask,
  UserFlag,
  UserInfo,
  type SecurityLevel,
} from '../../../proto/gen/gsdk/user.js';

/**
 * CSNCardData.size: the API documents it as always 32 (the device's card data buffer),
 * whatever the length of `data`.
 */
export const CARD_DATA_SIZE = 32;

/** A user as GetPartial returns it: the ID plus the fields its InfoMask asked for. */
export type PartialUser = Pick<User, 'id'> & Partial<User>;

function bytes(base64: string | undefined): Buffer {
  return base64 ? Buffer.from(base64, 'base64') : Buffer.alloc(0);
}

function base64(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
}

/**
 * The UserInfo a device is sent for `user`. `updateMask` (UpdateMask bits) is read only by
 * Update/UpdateMulti; 0 (KEEP_NONE) replaces the stored user whole.
 */
export function toUserInfo(user: User, updateMask = 0): UserInfo {
  return {
    hdr: {
      ID: user.id,
      userFlag: user.disabled ? UserFlag.USER_FLAG_DISABLED : UserFlag.USER_FLAG_NONE,
      numOfCard: user.cards.length,
      numOfFinger: user.fingers.length,
      numOfFace: user.faces.length,
      // The site model has no face group-matching group; devices treat 0 as none.
      authGroupID: 0,
      updateMask,
    },
    setting: {
      startTime: user.startTime,
      endTime: user.endTime,
      biometricAuthMode: user.auth.biometric,
      cardAuthMode: user.auth.card,
      IDAuthMode: user.auth.id,
      securityLevel: user.securityLevel as SecurityLevel,
      faceAuthExtMode: user.auth.faceExt,
      fingerAuthExtMode: user.auth.fingerExt,
      cardAuthExtMode: user.auth.cardExt,
      IDAuthExtMode: user.auth.idExt,
    },
    name: user.name,
    cards: user.cards.map((card) => ({ type: card.type as CardWireType, size: CARD_DATA_SIZE, data: bytes(card.data) })),
    fingers: user.fingers.map((finger) => ({
      index: finger.index,
      flag: finger.flag,
      templates: finger.templates.map(bytes),
    })),
    faces: user.faces.map((face) => ({
      index: face.index,
      flag: face.flag,
      templates: face.templates.map(bytes),
      imageData: bytes(face.imageData),
      irTemplates: (face.irTemplates ?? []).map(bytes),
      irImageData: bytes(face.irImageData),
    })),
    accessGroupIDs: [...user.accessGroups],
    jobCodes: user.jobCodes.map((job) => ({ code: job.code, label: job.label })),
    PIN: bytes(user.pinHash),
    photo: bytes(user.photo),
  };
}

/**
 * The User a device's UserInfo describes. Device-kept header bits other than DISABLED
 * (CREATED, UPDATED) and authGroupID are not part of the site model and are dropped; empty
 * optional values (no PIN, no photo, no face image) become absent fields.
 */
export function fromUserInfo(info: UserInfo): User {
  const user = emptyUser(info.hdr?.ID ?? '');
  user.name = info.name;
  user.disabled = ((info.hdr?.userFlag ?? 0) & UserFlag.USER_FLAG_DISABLED) !== 0;
  const setting = info.setting;
  if (setting) {
    user.startTime = setting.startTime;
    user.endTime = setting.endTime;
    user.securityLevel = setting.securityLevel;
    user.auth = {
      biometric: setting.biometricAuthMode,
      card: setting.cardAuthMode,
      id: setting.IDAuthMode,
      faceExt: setting.faceAuthExtMode,
      fingerExt: setting.fingerAuthExtMode,
      cardExt: setting.cardAuthExtMode,
      idExt: setting.IDAuthExtMode,
    };
  }
  user.cards = info.cards.map((card) => ({ type: card.type, data: base64(card.data) }));
  user.fingers = info.fingers.map((finger) => ({
    index: finger.index,
    flag: finger.flag,
    templates: finger.templates.map(base64),
  }));
  user.faces = info.faces.map((wire) => {
    const face: Face = { index: wire.index, flag: wire.flag, templates: wire.templates.map(base64) };
    if (wire.imageData.length > 0) face.imageData = base64(wire.imageData);
    if (wire.irTemplates.length > 0) face.irTemplates = wire.irTemplates.map(base64);
    if (wire.irImageData.length > 0) face.irImageData = base64(wire.irImageData);
    return face;
  });
  user.accessGroups = [...info.accessGroupIDs];
  user.jobCodes = info.jobCodes.map((job) => ({ code: job.code, label: job.label }));
  if (info.PIN.length > 0) user.pinHash = base64(info.PIN);
  if (info.photo.length > 0) user.photo = base64(info.photo);
  return user;
}

/** Which User fields each InfoMask bit of GetPartial fills. */
const INFO_MASK_FIELDS: ReadonlyArray<readonly [number, readonly (keyof User)[]]> = [
  [InfoMask.INFO_MASK_HDR, ['disabled']],
  [InfoMask.INFO_MASK_SETTING, ['startTime', 'endTime', 'auth', 'securityLevel']],
  // The extended (visual face) modes live in `auth` with the others.
  [InfoMask.INFO_MASK_SETTING_EX, ['auth']],
  [InfoMask.INFO_MASK_NAME, ['name']],
  [InfoMask.INFO_MASK_PHOTO, ['photo']],
  [InfoMask.INFO_MASK_PIN, ['pinHash']],
  [InfoMask.INFO_MASK_CARD, ['cards']],
  [InfoMask.INFO_MASK_FINGER, ['fingers']],
  [InfoMask.INFO_MASK_FACE, ['faces']],
  [InfoMask.INFO_MASK_FACE_EX, ['faces']],
  [InfoMask.INFO_MASK_ACCESS_GROUP, ['accessGroups']],
  [InfoMask.INFO_MASK_JOB, ['jobCodes']],
];

/** The User fields a GetPartial with `infoMask` returns, besides the ID. */
export function fieldsOfInfoMask(infoMask: number): (keyof User)[] {
  const fields = new Set<keyof User>();
  for (const [bit, keys] of INFO_MASK_FIELDS) {
    if ((infoMask & bit) !== 0) for (const key of keys) fields.add(key);
  }
  return [...fields];
}

/**
 * The part of a device's UserInfo that a GetPartial with `infoMask` filled. Fields the
 * mask did not ask for are absent rather than empty, so that a caller cannot mistake
 * "not read" for "cleared".
 */
export function fromPartialUserInfo(info: UserInfo, infoMask: number): PartialUser {
  const whole = fromUserInfo(info);
  const picked: PartialUser = { id: whole.id };
  for (const key of fieldsOfInfoMask(infoMask)) {
    if (whole[key] !== undefined) (picked as Record<string, unknown>)[key] = whole[key];
  }
  return picked;
}

/**
 * Bytes the user takes in an Enroll/Update request, for callers that batch by size: one
 * whole protobuf encoding. The transport keeps the encodings it sizes for the requests that
 * carry them (user-encodings.ts).
 */
export function encodedSize(user: User): number {
  // Each repeated UserInfo costs its length plus a tag and a length prefix (<= 6 bytes).
  return UserInfo.encode(toUserInfo(user)).finish().length + 6;
}
