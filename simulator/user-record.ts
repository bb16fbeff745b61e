import { createHash } from 'node:crypto';
import { InfoMask, UpdateMask, UserFlag, UserInfo, UserSetting, SecurityLevel } from '../proto/gen/gsdk/user.js';

/**
 * How a device holds a user: the canonical protobuf encoding of its UserInfo, plus the few
 * numbers that headers and statistics need, so that neither decodes the bytes again.
 */
export interface StoredUser {
  readonly id: string;
  readonly bytes: Buffer;
  /** Content hash of `bytes`; the interning key. Empty when the record is not interned. */
  readonly key: string;
  readonly userFlag: number;
  readonly authGroupID: number;
  readonly cards: number;
  readonly fingers: number;
  readonly faces: number;
  readonly hasName: boolean;
  readonly hasPhoto: boolean;
  /** Devices holding this record; owned by UserContentPool. */
  refs: number;
}

/** A user checked for shape and encoded once, ready to be stored on any number of devices. */
export interface PreparedUser {
  readonly info: UserInfo;
  readonly bytes: Buffer;
  readonly key: string;
}

/** What a device reports when a user was stored without UserSetting: "use the device's". */
const AUTH_MODE_UNDEFINED = 0xff;

export function deviceDefaultSetting(): UserSetting {
  return {
    startTime: 0,
    endTime: 0,
    biometricAuthMode: AUTH_MODE_UNDEFINED,
    cardAuthMode: AUTH_MODE_UNDEFINED,
    IDAuthMode: AUTH_MODE_UNDEFINED,
    securityLevel: SecurityLevel.SECURE_LEVEL_DEFAULT,
    faceAuthExtMode: AUTH_MODE_UNDEFINED,
    fingerAuthExtMode: AUTH_MODE_UNDEFINED,
    cardAuthExtMode: AUTH_MODE_UNDEFINED,
    IDAuthExtMode: AUTH_MODE_UNDEFINED,
  };
}

/**
 * The user as a device stores it: header counts follow the credentials, only the DISABLED
 * bit of userFlag is kept (the others describe a change, not a state), updateMask is an
 * instruction and is not stored, and a missing setting becomes the device default.
 */
export function normalizeUser(user: UserInfo): UserInfo {
  return {
    hdr: {
      ID: user.hdr?.ID ?? '',
      userFlag: (user.hdr?.userFlag ?? 0) & UserFlag.USER_FLAG_DISABLED,
      numOfCard: user.cards.length,
      numOfFinger: user.fingers.length,
      numOfFace: user.faces.length,
      authGroupID: user.hdr?.authGroupID ?? 0,
      updateMask: 0,
    },
    setting: user.setting ?? deviceDefaultSetting(),
    name: user.name,
    cards: user.cards,
    fingers: user.fingers,
    faces: user.faces,
    accessGroupIDs: user.accessGroupIDs,
    jobCodes: user.jobCodes,
    PIN: user.PIN,
    photo: user.photo,
  };
}

export function prepareUser(user: UserInfo): PreparedUser {
  const info = normalizeUser(user);
  // Buffer.from copies into Node's shared slab: far less overhead per small record than the
  // encoder's own ArrayBuffer.
  const bytes = Buffer.from(UserInfo.encode(info).finish());
  return { info, bytes, key: contentKey(bytes) };
}

export function contentKey(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('base64');
}

export function storedUserOf(prepared: PreparedUser, key: string): StoredUser {
  const { info } = prepared;
  return {
    id: info.hdr?.ID ?? '',
    bytes: prepared.bytes,
    key,
    userFlag: info.hdr?.userFlag ?? 0,
    authGroupID: info.hdr?.authGroupID ?? 0,
    cards: info.cards.length,
    fingers: info.fingers.length,
    faces: info.faces.length,
    hasName: info.name.length > 0,
    hasPhoto: info.photo.length > 0,
    refs: 0,
  };
}

export function decodeStored(user: StoredUser): UserInfo {
  return UserInfo.decode(user.bytes);
}

/**
 * GetPartial: keep the parts named by InfoMask bits. The header always carries the ID so
 * the client knows whose parts these are; PHRASE has no field in UserInfo; FACE_EX and
 * SETTING_EX select the same fields as FACE and SETTING.
 */
export function applyInfoMask(user: UserInfo, mask: number): UserInfo {
  const has = (bit: number): boolean => (mask & bit) !== 0;
  const id = user.hdr?.ID ?? '';
  return {
    hdr: has(InfoMask.INFO_MASK_HDR) && user.hdr
      ? user.hdr
      : { ID: id, userFlag: 0, numOfCard: 0, numOfFinger: 0, numOfFace: 0, authGroupID: 0, updateMask: 0 },
    setting: has(InfoMask.INFO_MASK_SETTING) || has(InfoMask.INFO_MASK_SETTING_EX) ? user.setting : undefined,
    name: has(InfoMask.INFO_MASK_NAME) ? user.name : '',
    cards: has(InfoMask.INFO_MASK_CARD) ? user.cards : [],
    fingers: has(InfoMask.INFO_MASK_FINGER) ? user.fingers : [],
    faces: has(InfoMask.INFO_MASK_FACE) || has(InfoMask.INFO_MASK_FACE_EX) ? user.faces : [],
    accessGroupIDs: has(InfoMask.INFO_MASK_ACCESS_GROUP) ? user.accessGroupIDs : [],
    jobCodes: has(InfoMask.INFO_MASK_JOB) ? user.jobCodes : [],
    PIN: has(InfoMask.INFO_MASK_PIN) ? user.PIN : Buffer.alloc(0),
    photo: has(InfoMask.INFO_MASK_PHOTO) ? user.photo : Buffer.alloc(0),
  };
}

/**
 * Update: every part comes from the request except those whose UpdateMask bit is set, which
 * keep the stored value. KEEP_NONE (0) therefore replaces the user whole, like an Enroll
 * with overwrite. Header, setting and access groups are not covered by the mask and always
 * come from the request.
 */
export function applyUpdateMask(stored: UserInfo, incoming: UserInfo, mask: number): UserInfo {
  const keep = (bit: number): boolean => (mask & bit) !== 0;
  return {
    ...incoming,
    name: keep(UpdateMask.UPDATE_MASK_NAME) ? stored.name : incoming.name,
    photo: keep(UpdateMask.UPDATE_MASK_PHOTO) ? stored.photo : incoming.photo,
    PIN: keep(UpdateMask.UPDATE_MASK_PIN) ? stored.PIN : incoming.PIN,
    cards: keep(UpdateMask.UPDATE_MASK_CARD) ? stored.cards : incoming.cards,
    fingers: keep(UpdateMask.UPDATE_MASK_FINGER) ? stored.fingers : incoming.fingers,
    faces: keep(UpdateMask.UPDATE_MASK_FACE) ? stored.faces : incoming.faces,
    jobCodes: keep(UpdateMask.UPDATE_MASK_JOB_CODE) ? stored.jobCodes : incoming.jobCodes,
  };
}
