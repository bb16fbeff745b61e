/**
 * A user as the admin API shows it: every field an operator reads, with credentials as
 * counts and card types. Card data, templates, face images, the PIN hash and the photo never
 * leave the daemon this way (an export is the way to move them).
 */
import { CardType, type AuthModes, type JobCode, type User } from '../model/user.js';

export interface UserView {
  id: string;
  name: string;
  disabled: boolean;
  /** Unix seconds; 0 = no limit. */
  startTime: number;
  endTime: number;
  securityLevel: number;
  auth: AuthModes;
  accessGroups: number[];
  jobCodes: JobCode[];
  department: string | null;
  title: string | null;
  phone: string | null;
  email: string | null;
  userGroup: string | null;
  custom: Record<string, string>;
  credentials: {
    cards: { type: number; typeName: string }[];
    fingers: number;
    faces: number;
    pin: boolean;
    photo: boolean;
  };
}

const CARD_TYPE_NAMES = new Map<number, string>(Object.entries(CardType).map(([name, value]) => [value, name]));

export function cardTypeName(type: number): string {
  return CARD_TYPE_NAMES.get(type) ?? `TYPE_${type}`;
}

export function userView(user: User): UserView {
  return {
    id: user.id,
    name: user.name,
    disabled: user.disabled,
    startTime: user.startTime,
    endTime: user.endTime,
    securityLevel: user.securityLevel,
    auth: { ...user.auth },
    accessGroups: [...user.accessGroups],
    jobCodes: user.jobCodes.map((j) => ({ code: j.code, label: j.label })),
    department: user.department ?? null,
    title: user.title ?? null,
    phone: user.phone ?? null,
    email: user.email ?? null,
    userGroup: user.userGroup ?? null,
    custom: { ...user.custom },
    credentials: {
      cards: user.cards.map((card) => ({ type: card.type, typeName: cardTypeName(card.type) })),
      fingers: user.fingers.length,
      faces: user.faces.length,
      pin: user.pinHash !== undefined && user.pinHash !== '',
      photo: user.photo !== undefined && user.photo !== '',
    },
    // Which gateway scheme made the PIN hash (daemon/model/pin-provenance.ts); only when known.
    ...(user.pinHashScheme !== undefined && user.pinHash !== undefined && user.pinHash !== '' ? { pinHashScheme: user.pinHashScheme } : {}),
  };
}
