/**
 * A per-device copy of a user (issue 13 item 2, ARCHITECTURE §10): what one device can hold
 * of the stored user. Devices are not alike: a BioStation 3 has no fingerprint sensor, a
 * FaceStation 2 holds IR faces and a FaceStation F2 visual ones (the two cannot be moved
 * between each other, spec/device-models.md §4.1), and each model has its own per-user maxima.
 * The engine sends each device its copy, and checks compare the device with its copy, never
 * with the full record: a byte-for-byte compare of the full user would repair forever.
 *
 * Pure. `holds` says what a device holds; every field of it is optional, and an absent field
 * means "not reported": nothing is left off for it (the conservative default: a device that
 * does not say it lacks a sensor gets the credential, and refuses it itself if it must).
 */
import type { User } from './user.js';
import { FACE_FLAG_EX } from './limits.js';
import { pinHashFits } from './pin-provenance.js';

/** The kind of face data a device holds: none, IR (FaceData without EX) or visual (BS2_FACE_FLAG_EX). */
export type FaceKind = 'none' | 'ir' | 'visual';

/** What one device holds per user, from its capability calls (absent = not reported). */
export interface DeviceHolds {
  /** Whether it has a fingerprint sensor (CapabilityInfo.fingerSupported). */
  fingerprints?: boolean;
  /** Fingerprints per user (DeviceCapability.maxFingerprintsPerUser). */
  maxFingerprints?: number;
  /** finger.TemplateFormat it is configured for (FingerConfig.templateFormat): 0 SUPREMA, 1 ISO, 2 ANSI. */
  templateFormat?: number;
  /** Which face data it holds (CapabilityInfo.faceSupported, DeviceCapability.faceExSupported). */
  faces?: FaceKind;
  /** Faces per user (DeviceCapability.maxFacesPerUser). */
  maxFaces?: number;
  /** Whether it has a card reader (CapabilityInfo.cardSupported). */
  cards?: boolean;
  /** Cards per user (DeviceCapability.maxCardsPerUser). */
  maxCards?: number;
  /** Whether it takes a PIN (CapabilityInfo.PINSupported). */
  pin?: boolean;
}

/** What is the same for every device of a site, and bears on copies. */
export interface CopySite {
  /** The PIN hash scheme of the gateway in front of the devices (pin-provenance.ts); absent = not known yet. */
  pinHashScheme?: string;
  /** The site's fingerprint template format (finger.TemplateFormat); absent = not known, not checked. */
  templateFormat?: number;
}

/** Why a credential was left off a device's copy. Stable codes: the admin API, events and the metric use them. */
export const LEFT_OFF_REASONS = [
  'no-fingerprint-sensor',
  'template-format',
  'no-face',
  'ir-face-on-visual-device',
  'visual-face-on-ir-device',
  'no-card-reader',
  'no-pin',
  'pin-hash-foreign',
  'over-device-maximum',
] as const;

export type LeftOffReason = (typeof LEFT_OFF_REASONS)[number];

export type CredentialKind = 'fingerprint' | 'face' | 'card' | 'pin';

/** Credentials of one kind left off for one reason. */
export interface LeftOff {
  what: CredentialKind;
  count: number;
  reason: LeftOffReason;
}

export interface DeviceCopy {
  /** The user as this device gets it: the stored user itself when nothing is left off. */
  copy: User;
  leftOff: LeftOff[];
}

/** What a reason means, for operators (`plan`, `verify`, `users show`). */
export function leftOffText(item: LeftOff): string {
  const noun = { fingerprint: 'fingerprint', face: 'face', card: 'card', pin: 'PIN' }[item.what];
  const what = item.what === 'pin' ? noun : `${item.count} ${noun}${item.count === 1 ? '' : 's'}`;
  const why: Record<LeftOffReason, string> = {
    'no-fingerprint-sensor': 'the device has no fingerprint sensor',
    'template-format': "the device's fingerprint template format is not the site's",
    'no-face': 'the device holds no faces',
    'ir-face-on-visual-device': 'IR face data on a visual-face device',
    'visual-face-on-ir-device': 'visual face data on an IR-face device',
    'no-card-reader': 'the device has no card reader',
    'no-pin': 'the device takes no PIN',
    'pin-hash-foreign': "the PIN hash was made by another gateway and would not match",
    'over-device-maximum': "over the device's per-user maximum",
  };
  return `${what}: ${why[item.reason]} (${item.reason})`;
}

function isVisual(flag: number): boolean {
  return (flag & FACE_FLAG_EX) !== 0;
}

/**
 * The user as a device with `holds` can hold it, and what was left off with why. Order of
 * the rules per kind: a kind the device lacks goes whole; then credentials of the wrong kind
 * (faces) or format (fingers); then the rest is cut at the device's maximum, keeping the
 * user's first ones (the order a device keeps).
 */
export function deviceCopy(user: User, holds: DeviceHolds, site: CopySite = {}): DeviceCopy {
  const leftOff: LeftOff[] = [];
  const drop = (what: CredentialKind, count: number, reason: LeftOffReason) => {
    if (count > 0) leftOff.push({ what, count, reason });
  };
  const cap = <T>(what: CredentialKind, items: T[], max: number | undefined): T[] => {
    if (max === undefined || items.length <= max) return items;
    drop(what, items.length - max, 'over-device-maximum');
    return items.slice(0, max);
  };

  let fingers = user.fingers;
  if (fingers.length > 0) {
    if (holds.fingerprints === false) {
      drop('fingerprint', fingers.length, 'no-fingerprint-sensor');
      fingers = [];
    } else if (holds.templateFormat !== undefined && site.templateFormat !== undefined && holds.templateFormat !== site.templateFormat) {
      drop('fingerprint', fingers.length, 'template-format');
      fingers = [];
    } else {
      fingers = cap('fingerprint', fingers, holds.maxFingerprints);
    }
  }

  let faces = user.faces;
  if (faces.length > 0) {
    if (holds.faces === 'none') {
      drop('face', faces.length, 'no-face');
      faces = [];
    } else {
      if (holds.faces === 'visual') {
        const kept = faces.filter((f) => isVisual(f.flag));
        drop('face', faces.length - kept.length, 'ir-face-on-visual-device');
        faces = kept;
      } else if (holds.faces === 'ir') {
        const kept = faces.filter((f) => !isVisual(f.flag));
        drop('face', faces.length - kept.length, 'visual-face-on-ir-device');
        faces = kept;
      }
      faces = cap('face', faces, holds.maxFaces);
    }
  }

  let cards = user.cards;
  if (cards.length > 0) {
    if (holds.cards === false) {
      drop('card', cards.length, 'no-card-reader');
      cards = [];
    } else {
      cards = cap('card', cards, holds.maxCards);
    }
  }

  let pinOff = false;
  if (typeof user.pinHash === 'string' && user.pinHash !== '') {
    if (holds.pin === false) {
      drop('pin', 1, 'no-pin');
      pinOff = true;
    } else if (!pinHashFits(user, site.pinHashScheme)) {
      drop('pin', 1, 'pin-hash-foreign');
      pinOff = true;
    }
  }

  if (leftOff.length === 0) return { copy: user, leftOff };
  const copy: User = { ...user, fingers, faces, cards };
  if (pinOff) {
    delete copy.pinHash;
    delete copy.pinHashScheme;
  }
  return { copy, leftOff };
}

/** Credentials of one kind left off for one reason, over many users of one device. */
export interface LeftOffTotal extends LeftOff {
  /** Users with some of these left off. */
  users: number;
}

/** The left-off credentials of many users (one device's copies), by kind and reason, in catalogue order. */
export function sumLeftOff(lists: Iterable<readonly LeftOff[] | undefined>): LeftOffTotal[] {
  const totals = new Map<string, LeftOffTotal>();
  for (const list of lists) {
    if (!list) continue;
    for (const item of list) {
      const key = `${item.what}:${item.reason}`;
      const total = totals.get(key);
      if (total) {
        total.count += item.count;
        total.users += 1;
      } else {
        totals.set(key, { ...item, users: 1 });
      }
    }
  }
  const order = (t: LeftOff) => LEFT_OFF_REASONS.indexOf(t.reason) * 4 + KINDS.indexOf(t.what);
  return [...totals.values()].sort((a, b) => order(a) - order(b));
}

const KINDS: readonly CredentialKind[] = ['fingerprint', 'face', 'card', 'pin'];

/**
 * A short id of what a device holds, with the site facts that bear on copies: devices with
 * the same id get the same copy of every user, so users are copied, hashed and encoded once
 * per shape, not once per device.
 */
export function holdsShapeId(holds: DeviceHolds, site: CopySite = {}): string {
  const flag = (value: boolean | undefined) => (value === undefined ? '?' : value ? '1' : '0');
  const num = (value: number | undefined) => (value === undefined ? '?' : String(value));
  return [
    `f${flag(holds.fingerprints)}${num(holds.maxFingerprints)}t${num(holds.templateFormat)}`,
    `v${holds.faces === undefined ? '?' : holds.faces[0]}${num(holds.maxFaces)}`,
    `c${flag(holds.cards)}${num(holds.maxCards)}`,
    `p${flag(holds.pin)}`,
    `s${site.pinHashScheme ?? '?'}t${num(site.templateFormat)}`,
  ].join('.');
}

/**
 * A user read back from a device, with what that device was never given put back from the
 * stored user: the kinds left off whole take the stored values, and credentials cut at a
 * maximum or left off for their kind follow the device's own. A merge of a device user must
 * not read "the device has no faces" as "the user has no faces": the device never had them.
 */
export function withLeftOffRestored(deviceUser: User, stored: User | undefined, holds: DeviceHolds, site: CopySite = {}): User {
  if (!stored) return deviceUser;
  const { copy, leftOff } = deviceCopy(stored, holds, site);
  if (leftOff.length === 0) return deviceUser;
  const offOf = <T>(all: T[], kept: T[]): T[] => all.filter((item) => !kept.includes(item));
  const restored: User = {
    ...deviceUser,
    fingers: [...deviceUser.fingers, ...offOf(stored.fingers, copy.fingers)],
    faces: [...deviceUser.faces, ...offOf(stored.faces, copy.faces)],
    cards: [...deviceUser.cards, ...offOf(stored.cards, copy.cards)],
  };
  if (copy.pinHash === undefined && stored.pinHash !== undefined && !deviceUser.pinHash) {
    restored.pinHash = stored.pinHash;
    if (stored.pinHashScheme !== undefined) restored.pinHashScheme = stored.pinHashScheme;
    else delete restored.pinHashScheme;
  }
  return restored;
}
