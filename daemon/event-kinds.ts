/**
 * The event log's kinds (STYLE §17): one catalogue, beside the error codes in errors.ts.
 * Every entry written to the event log names one of these, and the type of
 * `NewEvent.kind` makes the compiler hold every emitter to it. The table in README.md
 * ("Event kinds") is made from this one (`npm run readme`; a test compares them), so a kind
 * and its meaning are written here only.
 */
export const EventKinds = {
  'user.update.server': 'A user was created or changed on the server side (`rollcall users set`) and saved',
  'user.delete.server': 'A user was deleted from the database by an operator',
  'user.update.device': 'A user edited at a device was merged into the database',
  'user.enroll.device': 'A user enrolled at a device, new to the database, was added',
  'user.delete.device': 'A user (or every user) was deleted at a device; the database keeps them',
  'user.update.device.ignored': 'A device-side change was not merged (the sync mode takes none); the server version is restored',
  'user.save.failed': 'A device-side change could not be saved: it exists only on that device',
  'user.seed': 'Seed users were added to an empty database',
  'merge.conflict': 'One value lost in a merge of a device-side change',
  'sync.enroll.failed': 'A device did not take an enrollment (a rule of the device, or the device failed)',
  'sync.enroll.refused': 'A device refused one user; it is left alone there until the user changes',
  'sync.capacity': 'A device is full (its maximum user count)',
  'sync.removal.held': 'A removal of many users from a device waits for `rollcall confirm`',
  'sync.removal.confirmed': 'An operator confirmed a held removal',
  'sync.check.ok': 'A check found the device equal to its expected state',
  'sync.check.differences': 'A check found differences (and what the repair did)',
  'device.quarantined': 'A device failed repeatedly and is retried slowly',
  'device.events.baseline': 'Reading a device\'s event log starts at a new point (first contact, a cleared or reset log, an operator\'s `rollcall devices events-from`); older events are not read',
  'device.event.skipped': 'A device-side event whose user could not be read back after the configured attempts was skipped; a check of the device follows',
  'import.done': 'A dropped or uploaded file was imported',
  'import.failed': 'A dropped or uploaded file failed as a whole',
  'import.duplicate': 'A file already imported (same content) was skipped',
  'export.done': 'An export was written',
  'export.failed': 'An export failed',
} as const;

export type EventKind = keyof typeof EventKinds;

export function isEventKind(kind: string): kind is EventKind {
  return Object.hasOwn(EventKinds, kind);
}
