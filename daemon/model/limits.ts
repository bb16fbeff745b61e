/**
 * What one device accepts per user (spec/gsdk-wire.md §2.1, §2.5, §5). The defaults are the
 * G-SDK limits every current device shares; a device with smaller memory or a newer
 * firmware can override any of them.
 */

export interface DeviceLimits {
  /** UserHdr.ID, UTF-8 bytes (BS2_USER_ID_SIZE). */
  maxUserIdBytes: number;
  /** UserInfo.name, characters (code points). */
  maxNameChars: number;
  /** UserInfo.name, UTF-8 bytes (MAX_NAME_LENGTH). */
  maxNameBytes: number;
  maxCards: number;
  /** CSNCardData.data, decoded bytes (BS2_CARD_DATA_SIZE). */
  maxCardDataBytes: number;
  maxFingers: number;
  /** Each of a finger's two templates, decoded bytes. */
  maxTemplateBytes: number;
  maxFaces: number;
  /** Templates of an IR face (flag without EX). */
  maxFaceTemplates: number;
  /** The image of an IR face, decoded bytes. */
  maxFaceImageBytes: number;
  /** Templates of a visual face (flag EX 0x100). */
  maxVisualFaceTemplates: number;
  /** Each visual-face template, decoded bytes (FACE_TEMPLATE_SIZE). */
  maxVisualFaceTemplateBytes: number;
  /** IR templates carried by a visual face. */
  maxVisualFaceIrTemplates: number;
  maxAccessGroups: number;
  maxJobCodes: number;
  /** JobCode.label, UTF-8 bytes (MAX_JOB_LABEL_LENGTH). */
  maxJobLabelBytes: number;
  /** UserInfo.photo, decoded bytes (BS2_USER_IMAGE_SIZE). */
  maxPhotoBytes: number;
}

export const DEFAULT_DEVICE_LIMITS: Readonly<DeviceLimits> = Object.freeze({
  maxUserIdBytes: 32,
  maxNameChars: 48,
  maxNameBytes: 192,
  maxCards: 8,
  maxCardDataBytes: 32,
  maxFingers: 10,
  maxTemplateBytes: 384,
  maxFaces: 5,
  maxFaceTemplates: 30,
  maxFaceImageBytes: 16384,
  maxVisualFaceTemplates: 10,
  maxVisualFaceTemplateBytes: 552,
  maxVisualFaceIrTemplates: 10,
  maxAccessGroups: 16,
  maxJobCodes: 16,
  maxJobLabelBytes: 48,
  maxPhotoBytes: 16384,
});

/** Wire facts, the same on every device: not limits a device could change. */
export const FINGER_TEMPLATES = 2;
export const PIN_HASH_BYTES = 32;
/** The largest numeric user ID; 4294967295 is the "no user" marker in device events. */
export const MAX_NUMERIC_USER_ID = 4294967294;
/** FaceData.flag bit of a visual ("EX") face. */
export const FACE_FLAG_EX = 0x100;

/** The defaults with a device's overrides laid over them; undefined overrides are ignored. */
export function resolveDeviceLimits(overrides?: Partial<DeviceLimits>): DeviceLimits {
  const limits: DeviceLimits = { ...DEFAULT_DEVICE_LIMITS };
  if (overrides === undefined) return limits;
  for (const key of Object.keys(DEFAULT_DEVICE_LIMITS) as (keyof DeviceLimits)[]) {
    const value = overrides[key];
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}
