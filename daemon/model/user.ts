/**
 * The site's user, as rollcall stores it. Device fields follow G-SDK's UserInfo
 * (spec/gsdk-wire.md §2.1); server-only fields follow BioStar's user model
 * (spec/biostar-domain.md §4) and never reach a device.
 *
 * Binary values (templates, card data, PIN hash, photo) are base64 strings so that a
 * record is plain JSON: stores, reports, the admin API and content hashes all read the
 * same shape. The transport turns them into bytes at the wire.
 */

/** G-SDK card.Type values (spec §2.5). */
export const CardType = {
  UNKNOWN: 0,
  CSN: 1,
  SECURE: 2,
  ACCESS: 3,
  CSN_MOBILE: 4,
  WIEGAND_MOBILE: 5,
  QR: 6,
  SECURE_QR: 7,
  WIEGAND: 0x0a,
  CONFIG_CARD: 0x0b,
  CUSTOM_SMART: 0x0d,
} as const;

/** gsdk.auth.AuthMode values that have a meaning of their own (spec §2.1). */
export const AuthModeUndefined = 0xff;
export const AuthModeProhibited = 0xfe;

export interface Card {
  /** card.Type */
  type: number;
  /** Card data bytes, base64; at most 32 bytes. */
  data: string;
}

export interface Finger {
  /** For the application only; devices ignore it. */
  index: number;
  /** 0 none, 1 duress. */
  flag: number;
  /** Two templates of the same finger, base64, each at most 384 bytes. */
  templates: string[];
}

export interface Face {
  index: number;
  /** NONE 0, WARPED 0x01, TEMPLATE_ONLY 0x20, EX 0x100 */
  flag: number;
  templates: string[];
  imageData?: string;
  irTemplates?: string[];
  irImageData?: string;
}

export interface JobCode {
  code: number;
  label: string;
}

/** Private authentication modes (UserSetting 3–5, 7–10). 255 means "use the device's". */
export interface AuthModes {
  biometric: number;
  card: number;
  id: number;
  faceExt: number;
  fingerExt: number;
  cardExt: number;
  idExt: number;
}

export interface User {
  /** UserHdr.ID: at most 32 bytes, never "0". */
  id: string;
  /** At most 48 characters. */
  name: string;
  /** UserHdr.userFlag DISABLED (0x80) on the device; BioStar's `disabled`. */
  disabled: boolean;
  /** Valid from, Unix seconds; 0 = no limit. */
  startTime: number;
  /** Valid until, Unix seconds; 0 = no limit. */
  endTime: number;
  auth: AuthModes;
  /** 0 = device default … 5 = most secure. */
  securityLevel: number;
  cards: Card[];
  fingers: Finger[];
  faces: Face[];
  accessGroups: number[];
  jobCodes: JobCode[];
  /** The 32-byte hash from the gateway's GetPINHash, base64. Never a plaintext PIN. */
  pinHash?: string;
  /**
   * Which gateway hash scheme made `pinHash` (daemon/model/pin-provenance.ts): the scheme id
   * of the gateway that hashed the PIN or read the hash from a device. Absent = unknown (an
   * imported hash of unknown origin, or a user stored before this field). Server-side only.
   */
  pinHashScheme?: string;
  /** Profile image, base64, at most 16 KB decoded. */
  photo?: string;

  // Server-only fields (BioStar's user model); devices do not hold them.
  department?: string;
  title?: string;
  phone?: string;
  email?: string;
  userGroup?: string;
  custom?: Record<string, string>;
}

/** The fields of User a device holds, in the order merge results and conflicts list them. */
export const DEVICE_FIELDS = [
  'name',
  'disabled',
  'startTime',
  'endTime',
  'auth',
  'securityLevel',
  'cards',
  'fingers',
  'faces',
  'accessGroups',
  'jobCodes',
  'pinHash',
  'photo',
] as const satisfies readonly (keyof User)[];

export type DeviceField = (typeof DEVICE_FIELDS)[number];

/** The fields only the server holds (BioStar's user model); devices never get them. */
export const SERVER_FIELDS = ['department', 'title', 'phone', 'email', 'userGroup', 'custom'] as const satisfies readonly (keyof User)[];

/** Where a committed change came from; written with the change and into the event log. */
export type Origin =
  | { kind: 'server'; by?: string }
  | { kind: 'device'; deviceId: number }
  | { kind: 'import'; file: string; format: string }
  | { kind: 'admin'; by?: string };

export function defaultAuthModes(): AuthModes {
  return {
    biometric: AuthModeUndefined,
    card: AuthModeUndefined,
    id: AuthModeUndefined,
    faceExt: AuthModeUndefined,
    fingerExt: AuthModeUndefined,
    cardExt: AuthModeUndefined,
    idExt: AuthModeUndefined,
  };
}

/** A user with every field at its empty value, for building records field by field. */
export function emptyUser(id: string): User {
  return {
    id,
    name: '',
    disabled: false,
    startTime: 0,
    endTime: 0,
    auth: defaultAuthModes(),
    securityLevel: 0,
    cards: [],
    fingers: [],
    faces: [],
    accessGroups: [],
    jobCodes: [],
  };
}
