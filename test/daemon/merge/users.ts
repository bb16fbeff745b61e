// Users for the merge tests. Secrets are distinctive base64 values so that a test can look
// for them in any text the merge produces.
import { CardType, emptyUser, type Card, type Face, type Finger, type User } from '../../../daemon/model/user.js';

/** A deterministic base64 value of `bytes` bytes, different for every `seed`. */
export function secret(seed: string, bytes = 24): string {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 1) out[i] = (seed.charCodeAt(i % seed.length) * 31 + i * 17 + seed.length) & 0xff;
  return out.toString('base64');
}

export function card(seed: string, type: number = CardType.CSN): Card {
  return { type, data: secret(`card-${seed}`, 16) };
}

export function finger(seed: string, flag = 0, index = 0): Finger {
  return { index, flag, templates: [secret(`finger-${seed}-0`, 48), secret(`finger-${seed}-1`, 48)] };
}

export function face(seed: string, flag = 0): Face {
  return { index: 0, flag, templates: [secret(`face-${seed}-t`, 64)], imageData: secret(`face-${seed}-img`, 96) };
}

export function user(id: string, fields: Partial<User> = {}): User {
  return { ...emptyUser(id), ...fields };
}

/** A user with every device field and every server-only field set. */
export function fullUser(id: string, seed: string): User {
  return user(id, {
    name: `Name ${seed}`,
    disabled: false,
    startTime: 1_700_000_000,
    endTime: 1_900_000_000,
    auth: { biometric: 0, card: 2, id: 8, faceExt: 255, fingerExt: 255, cardExt: 255, idExt: 255 },
    securityLevel: 3,
    cards: [card(`${seed}-a`), card(`${seed}-b`, CardType.SECURE)],
    fingers: [finger(`${seed}-a`), finger(`${seed}-b`, 1, 3)],
    faces: [face(`${seed}-a`)],
    accessGroups: [1, 7],
    jobCodes: [{ code: 10, label: 'Day' }],
    pinHash: secret(`pin-${seed}`, 32),
    photo: secret(`photo-${seed}`, 300),
    department: 'Facilities',
    title: 'Engineer',
    phone: '+31 20 000 0000',
    email: 'someone@example.org',
    userGroup: 'Staff',
    custom: { badge: 'B-12' },
  });
}

/** Every base64 secret a user holds: card data, templates, images, PIN hash, photo. */
export function secretsOf(u: User): string[] {
  const out: string[] = [];
  for (const c of u.cards) out.push(c.data);
  for (const f of u.fingers) out.push(...f.templates);
  for (const f of u.faces) {
    out.push(...f.templates, ...(f.irTemplates ?? []));
    if (f.imageData !== undefined) out.push(f.imageData);
    if (f.irImageData !== undefined) out.push(f.irImageData);
  }
  if (u.pinHash !== undefined) out.push(u.pinHash);
  if (u.photo !== undefined) out.push(u.photo);
  return out.filter((s) => s !== '');
}

/** Freezes a value and everything in it, so that a test fails if a function changes its input. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
