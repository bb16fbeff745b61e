import { Type as DeviceType } from '../proto/gen/gsdk/device.js';
import { TemplateFormat } from '../proto/gen/gsdk/finger.js';

/**
 * What each Suprema model holds, from spec/device-models.md (its source keys are cited per
 * row). A virtual device of a type takes these values unless its spec overrides them. Values
 * that no public source states are picked and listed in `guesses` (and in simulator/README.md).
 */

/** none: no face camera; ir: FaceStation 2 / FaceLite templates; visual: FaceEx (BS2_FACE_FLAG_EX). */
export type FaceKind = 'none' | 'ir' | 'visual';

export interface DeviceModel {
  type: DeviceType;
  fingerprint: boolean;
  face: FaceKind;
  card: boolean;
  /** QR read as a credential (CapabilityInfo.QRSupported). */
  qr: boolean;
  pin: boolean;
  maxUsers: number;
  maxCardsPerUser: number;
  maxFingerprintsPerUser: number;
  maxFacesPerUser: number;
  /** finger.TemplateFormat values the model can be set to; empty without a sensor. */
  templateFormats: readonly TemplateFormat[];
  /** Which of the values above are picked rather than sourced (names of the fields). */
  guesses: readonly string[];
}

/** The User API caps (D-USER): 8 cards, 10 fingerprints, 5 faces per user. */
export const API_MAX_CARDS_PER_USER = 8;
export const API_MAX_FINGERPRINTS_PER_USER = 10;
export const API_MAX_FACES_PER_USER = 5;
/** FaceStation F2 keeps 2 visual-face poses per user (SUP-FSF2). */
const VISUAL_FACES_PER_USER = 2;
/** Capacity picked where no source gives the 1:1 figure: the largest published (SUP-GEN). */
const UNKNOWN_CAPACITY = 500_000;
const ALL_FORMATS: readonly TemplateFormat[] = [TemplateFormat.SUPREMA, TemplateFormat.ISO, TemplateFormat.ANSI];

interface Row {
  fingerprint: boolean;
  face: FaceKind;
  qr?: boolean;
  pin: boolean;
  maxUsers: number;
  guesses: string[];
}

function model(type: DeviceType, row: Row): DeviceModel {
  const faces = row.face === 'none' ? 0 : row.face === 'visual' ? VISUAL_FACES_PER_USER : API_MAX_FACES_PER_USER;
  return {
    type,
    fingerprint: row.fingerprint,
    face: row.face,
    card: true,
    qr: row.qr ?? false,
    pin: row.pin,
    maxUsers: row.maxUsers,
    maxCardsPerUser: API_MAX_CARDS_PER_USER,
    maxFingerprintsPerUser: row.fingerprint ? API_MAX_FINGERPRINTS_PER_USER : 0,
    maxFacesPerUser: faces,
    templateFormats: row.fingerprint ? ALL_FORMATS : [],
    // Every model is given a card reader (device-models.md §2 lists one for most; card
    // technologies are unknown). No model's list of template formats is published (P-FING).
    // "face: none" is an inference for models missing from both face-device lists (†).
    guesses: [...row.guesses, ...(row.fingerprint ? ['templateFormats'] : [])],
  };
}

const T = DeviceType;

/** One row per model of device-models.md §1. */
export const DEVICE_MODELS: ReadonlyMap<DeviceType, DeviceModel> = new Map(
  [
    // D-FACE, SUP-VF, DOC-BS3: no sensor, visual face, card + QR, PIN. Faces per user as FSF2.
    model(T.BIOSTATION_3, { fingerprint: false, face: 'visual', qr: true, pin: true, maxUsers: UNKNOWN_CAPACITY,
      guesses: ['maxUsers', 'maxFacesPerUser'] }),
    // Sold as a fingerprint reader (device-models.md preamble); 500,000 users (SUP-GEN).
    model(T.BIOSTATION_2, { fingerprint: true, face: 'none', pin: true, maxUsers: 500_000,
      guesses: ['fingerprint', 'pin', 'face', 'card'] }),
    // DOC-BS2A: fingerprint, RF + mobile card, keypad.
    model(T.BIOSTATION_2A, { fingerprint: true, face: 'none', pin: true, maxUsers: UNKNOWN_CAPACITY, guesses: ['maxUsers'] }),
    model(T.BIOSTATION_A2, { fingerprint: true, face: 'none', pin: true, maxUsers: 500_000, guesses: ['pin', 'face', 'card'] }),
    model(T.BIOSTATION_L2, { fingerprint: true, face: 'none', pin: true, maxUsers: 500_000, guesses: ['pin', 'face', 'card'] }),
    // D-FACE / SUP-VF list it as visual. A fingerprint sensor is not stated: taken as absent
    // (the "W" line is sold as a face / card reader); no keypad taken.
    model(T.BIOENTRY_W3, { fingerprint: false, face: 'visual', pin: false, maxUsers: UNKNOWN_CAPACITY,
      guesses: ['fingerprint', 'pin', 'maxUsers', 'maxFacesPerUser', 'card'] }),
    model(T.BIOENTRY_W2, { fingerprint: true, face: 'none', pin: false, maxUsers: 500_000, guesses: ['fingerprint', 'pin', 'face'] }),
    model(T.BIOENTRY_P2, { fingerprint: true, face: 'none', pin: false, maxUsers: 10_000, guesses: ['fingerprint', 'pin', 'face'] }),
    model(T.BIOENTRY_R2, { fingerprint: true, face: 'none', pin: false, maxUsers: UNKNOWN_CAPACITY,
      guesses: ['pin', 'maxUsers', 'face', 'card'] }),
    model(T.BIOLITE_N2, { fingerprint: true, face: 'none', pin: true, maxUsers: 10_000, guesses: ['fingerprint', 'pin', 'face'] }),
    // UG-FS2: IR face, card, PIN (4-16 digits), no sensor; 30,000 users 1:1.
    model(T.FACESTATION_2, { fingerprint: false, face: 'ir', pin: true, maxUsers: 30_000, guesses: ['maxFacesPerUser'] }),
    // SUP-FSF2 / DOC-FSF2: visual (fusion) face, 2 poses per user, card, PIN; 1:1 capacity unknown.
    model(T.FACESTATION_F2, { fingerprint: false, face: 'visual', pin: true, maxUsers: UNKNOWN_CAPACITY, guesses: ['maxUsers'] }),
    model(T.FACESTATION_F2_FP, { fingerprint: true, face: 'visual', pin: true, maxUsers: UNKNOWN_CAPACITY, guesses: ['maxUsers'] }),
    // D-FACE: IR face.
    model(T.FACELITE, { fingerprint: false, face: 'ir', pin: true, maxUsers: UNKNOWN_CAPACITY,
      guesses: ['fingerprint', 'pin', 'maxUsers', 'maxFacesPerUser', 'card'] }),
    // UG-XS2: touch screen (PIN taken), card; camera QR needs a license (taken as off).
    model(T.XSTATION_2, { fingerprint: false, face: 'none', pin: true, maxUsers: UNKNOWN_CAPACITY, guesses: ['pin', 'maxUsers', 'face'] }),
    // SUP-XS2QR: hardware QR sensor.
    model(T.XSTATION_2_QR, { fingerprint: false, face: 'none', qr: true, pin: true, maxUsers: UNKNOWN_CAPACITY,
      guesses: ['pin', 'maxUsers', 'face'] }),
    // KB-DEV: "XStation 2 Finger".
    model(T.XSTATION_2_FP, { fingerprint: true, face: 'none', pin: true, maxUsers: UNKNOWN_CAPACITY,
      guesses: ['fingerprint', 'pin', 'maxUsers', 'face'] }),
    // A card reader without biometrics; the keypad variant by its name.
    model(T.XPASS2, { fingerprint: false, face: 'none', pin: false, maxUsers: UNKNOWN_CAPACITY,
      guesses: ['fingerprint', 'pin', 'maxUsers', 'face'] }),
    model(T.XPASS2_KEYPAD, { fingerprint: false, face: 'none', pin: true, maxUsers: UNKNOWN_CAPACITY,
      guesses: ['fingerprint', 'pin', 'maxUsers', 'face'] }),
  ].map((m) => [m.type, m]),
);

/**
 * The model of a type. A type without a row (older readers, controllers) gets a card and
 * fingerprint reader with PIN and no face camera: every field of it is a guess.
 */
export function deviceModel(type: DeviceType): DeviceModel {
  return (
    DEVICE_MODELS.get(type) ??
    model(type, {
      fingerprint: true,
      face: 'none',
      pin: true,
      maxUsers: UNKNOWN_CAPACITY,
      guesses: ['fingerprint', 'face', 'card', 'pin', 'maxUsers'],
    })
  );
}
