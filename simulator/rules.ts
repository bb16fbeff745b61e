import { TemplateFormat } from '../proto/gen/gsdk/finger.js';
import { FaceFlag } from '../proto/gen/gsdk/face.js';
import type { UserInfo } from '../proto/gen/gsdk/user.js';
import type { FaceKind } from './device-models.js';

/**
 * The rules a device applies to a user before storing it (spec/gsdk-wire.md §5). Pure: the
 * caller turns a RuleBreak into an INVALID_ARGUMENT error for the device.
 */

export const USER_ID_MAX_BYTES = 32;
export const NAME_MAX_CHARS = 48;
export const NAME_MAX_BYTES = 192;
export const CARD_DATA_MAX_BYTES = 32;
export const FINGER_TEMPLATES_PER_FINGER = 2;
export const FINGER_TEMPLATE_MAX_BYTES = 384;
export const ACCESS_GROUPS_MAX = 16;
export const JOB_CODES_MAX = 16;
export const JOB_LABEL_MAX_BYTES = 48;
export const PIN_HASH_BYTES = 32;
export const PHOTO_MAX_BYTES = 16384;
/** IR face devices: templates per face and image size. */
export const FACE_TEMPLATES_MAX = 30;
export const FACE_IMAGE_MAX_BYTES = 16384;
/** Visual-face (FaceEx) data: templates of at most 552 bytes, at most 10 of each kind. */
export const FACE_EX_TEMPLATES_MAX = 10;
export const FACE_EX_TEMPLATE_MAX_BYTES = 552;

/** What a device allows; per device, changeable through the control service. */
export interface UserRules {
  maxCardsPerUser: number;
  maxFingerprintsPerUser: number;
  maxFacesPerUser: number;
  /** The face camera: IR and visual face data cannot be moved between the two (device-models.md §4.1). */
  face: FaceKind;
  /** Whether the model has PIN entry. */
  pin: boolean;
  templateFormat: TemplateFormat;
  /** SystemConfig.useAlphanumericID as the device currently has it. */
  useAlphanumericID: boolean;
}

export interface RuleBreak {
  /** Stable, short: tests and docs refer to it. */
  rule: string;
  message: string;
}

const DIGITS = /^[0-9]+$/;
const ALL_ZERO = /^0+$/;

export function checkUserId(id: string, useAlphanumericID: boolean): RuleBreak | undefined {
  if (id.length === 0) return { rule: 'id-empty', message: 'user ID is empty' };
  if (Buffer.byteLength(id, 'utf8') > USER_ID_MAX_BYTES) {
    return { rule: 'id-too-long', message: `user ID is longer than ${USER_ID_MAX_BYTES} bytes` };
  }
  if (ALL_ZERO.test(id)) return { rule: 'id-zero', message: 'user ID 0 is not allowed' };
  if (!useAlphanumericID && !DIGITS.test(id)) {
    return { rule: 'id-not-numeric', message: 'user ID must be numeric: alphanumeric IDs are off on this device' };
  }
  return undefined;
}

/**
 * The simulator's template-format convention: the first byte of every fingerprint template
 * names its format (0 SUPREMA, 1 ISO, 2 ANSI). Real templates carry no such tag.
 */
export function templateFormatOf(template: Uint8Array): TemplateFormat | undefined {
  const tag = template[0];
  if (tag === TemplateFormat.SUPREMA || tag === TemplateFormat.ISO || tag === TemplateFormat.ANSI) return tag;
  return undefined;
}

export function checkUser(user: UserInfo, rules: UserRules): RuleBreak | undefined {
  const id = user.hdr?.ID ?? '';
  const idBreak = checkUserId(id, rules.useAlphanumericID);
  if (idBreak) return idBreak;

  if ([...user.name].length > NAME_MAX_CHARS) {
    return { rule: 'name-too-long', message: `name is longer than ${NAME_MAX_CHARS} characters` };
  }
  if (Buffer.byteLength(user.name, 'utf8') > NAME_MAX_BYTES) {
    return { rule: 'name-too-long', message: `name is longer than ${NAME_MAX_BYTES} bytes` };
  }

  const heldBreak = checkHeld(user, rules);
  if (heldBreak) return heldBreak;

  if (user.cards.length > rules.maxCardsPerUser) {
    return { rule: 'too-many-cards', message: `${user.cards.length} cards; the device allows ${rules.maxCardsPerUser}` };
  }
  for (const card of user.cards) {
    if (card.data.length > CARD_DATA_MAX_BYTES) {
      return { rule: 'card-data-too-long', message: `card data is longer than ${CARD_DATA_MAX_BYTES} bytes` };
    }
  }

  if (user.fingers.length > rules.maxFingerprintsPerUser) {
    return {
      rule: 'too-many-fingers',
      message: `${user.fingers.length} fingers; the device allows ${rules.maxFingerprintsPerUser}`,
    };
  }
  for (const finger of user.fingers) {
    const fingerBreak = checkFinger(finger.templates, rules.templateFormat);
    if (fingerBreak) return fingerBreak;
  }

  if (user.faces.length > rules.maxFacesPerUser) {
    return { rule: 'too-many-faces', message: `${user.faces.length} faces; the device allows ${rules.maxFacesPerUser}` };
  }
  for (const face of user.faces) {
    const faceBreak = checkFace(face.flag, face.templates, face.irTemplates, face.imageData);
    if (faceBreak) return faceBreak;
  }

  if (user.accessGroupIDs.length > ACCESS_GROUPS_MAX) {
    return { rule: 'too-many-access-groups', message: `more than ${ACCESS_GROUPS_MAX} access groups` };
  }
  if (user.jobCodes.length > JOB_CODES_MAX) {
    return { rule: 'too-many-job-codes', message: `more than ${JOB_CODES_MAX} job codes` };
  }
  for (const job of user.jobCodes) {
    if (Buffer.byteLength(job.label, 'utf8') > JOB_LABEL_MAX_BYTES) {
      return { rule: 'job-label-too-long', message: `job code label is longer than ${JOB_LABEL_MAX_BYTES} bytes` };
    }
  }

  if (user.PIN.length !== 0 && user.PIN.length !== PIN_HASH_BYTES) {
    return { rule: 'pin-not-hash', message: `PIN must be empty or the ${PIN_HASH_BYTES}-byte hash from GetPINHash` };
  }
  if (user.photo.length > PHOTO_MAX_BYTES) {
    return { rule: 'photo-too-large', message: `photo is larger than ${PHOTO_MAX_BYTES} bytes` };
  }
  return undefined;
}

/**
 * Credentials the model cannot hold at all. No public source names the code a device
 * returns (device-models.md §5); the simulator refuses the user as it refuses any other
 * rule break (INVALID_ARGUMENT), with the rule named.
 */
function checkHeld(user: UserInfo, rules: UserRules): RuleBreak | undefined {
  if (user.cards.length > 0 && rules.maxCardsPerUser === 0) {
    return { rule: 'card-not-supported', message: 'the device has no card reader' };
  }
  if (user.fingers.length > 0 && rules.maxFingerprintsPerUser === 0) {
    return { rule: 'finger-not-supported', message: 'the device has no fingerprint sensor' };
  }
  if (user.faces.length > 0 && (rules.face === 'none' || rules.maxFacesPerUser === 0)) {
    return { rule: 'face-not-supported', message: 'the device has no face camera' };
  }
  for (const face of user.faces) {
    const visual = (face.flag & FaceFlag.BS2_FACE_FLAG_EX) !== 0;
    if (visual && rules.face === 'ir') {
      return { rule: 'face-visual-on-ir', message: 'visual face data (flag BS2_FACE_FLAG_EX) on an IR face device' };
    }
    if (!visual && rules.face === 'visual') {
      return { rule: 'face-ir-on-visual', message: 'IR face data (no BS2_FACE_FLAG_EX) on a visual face device' };
    }
  }
  if (user.PIN.length > 0 && !rules.pin) {
    return { rule: 'pin-not-supported', message: 'the device has no PIN entry' };
  }
  return undefined;
}

function checkFinger(templates: Uint8Array[], format: TemplateFormat): RuleBreak | undefined {
  if (templates.length !== FINGER_TEMPLATES_PER_FINGER) {
    return {
      rule: 'finger-template-count',
      message: `a finger needs exactly ${FINGER_TEMPLATES_PER_FINGER} templates, got ${templates.length}`,
    };
  }
  for (const template of templates) {
    if (template.length === 0) return { rule: 'finger-template-empty', message: 'a finger template is empty' };
    if (template.length > FINGER_TEMPLATE_MAX_BYTES) {
      return { rule: 'finger-template-too-large', message: `a finger template is larger than ${FINGER_TEMPLATE_MAX_BYTES} bytes` };
    }
    const tagged = templateFormatOf(template);
    if (tagged !== format) {
      return {
        rule: 'finger-template-format',
        message: `finger template format ${formatName(tagged)} does not match the device's ${formatName(format)}`,
      };
    }
  }
  return undefined;
}

function checkFace(flag: number, templates: Uint8Array[], irTemplates: Uint8Array[], image: Uint8Array): RuleBreak | undefined {
  if ((flag & FaceFlag.BS2_FACE_FLAG_EX) !== 0) {
    if (templates.length > FACE_EX_TEMPLATES_MAX || irTemplates.length > FACE_EX_TEMPLATES_MAX) {
      return { rule: 'face-template-count', message: `visual face data allows at most ${FACE_EX_TEMPLATES_MAX} templates of each kind` };
    }
    for (const template of [...templates, ...irTemplates]) {
      if (template.length > FACE_EX_TEMPLATE_MAX_BYTES) {
        return { rule: 'face-template-too-large', message: `a visual face template is larger than ${FACE_EX_TEMPLATE_MAX_BYTES} bytes` };
      }
    }
    return undefined;
  }
  if (templates.length > FACE_TEMPLATES_MAX) {
    return { rule: 'face-template-count', message: `a face allows at most ${FACE_TEMPLATES_MAX} templates` };
  }
  if (image.length > FACE_IMAGE_MAX_BYTES) {
    return { rule: 'face-image-too-large', message: `a face image is larger than ${FACE_IMAGE_MAX_BYTES} bytes` };
  }
  return undefined;
}

function formatName(format: TemplateFormat | undefined): string {
  if (format === undefined) return 'untagged';
  return TemplateFormat[format] ?? String(format);
}
