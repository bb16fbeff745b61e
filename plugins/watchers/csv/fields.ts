/**
 * The BioStar CSV field keys rollcall reads and writes (spec/biostar-domain.md §1.1), and
 * the User field each one fills. The CSV reader, the row mapper, the exporter and the
 * config schema all take their vocabulary from here.
 */
import type { User } from '../../../daemon/model/user.js';

export const FIELD_KEYS = [
  'user_id',
  'name',
  'department',
  'user_title',
  'phone',
  'email',
  'user_group',
  'start_datetime',
  'expiry_datetime',
  'csn',
  'pin',
  'disabled',
  'security_level',
] as const;

export type FieldKey = (typeof FIELD_KEYS)[number];

/** The User field a CSV field sets. `csn` sets the user's CSN card, `pin` the PIN hash. */
export const USER_FIELD_OF: Readonly<Record<FieldKey, keyof User>> = {
  user_id: 'id',
  name: 'name',
  department: 'department',
  user_title: 'title',
  phone: 'phone',
  email: 'email',
  user_group: 'userGroup',
  start_datetime: 'startTime',
  expiry_datetime: 'endTime',
  csn: 'cards',
  pin: 'pinHash',
  disabled: 'disabled',
  security_level: 'securityLevel',
};

/** Fields an export may write. `pin` is not one: rollcall holds only PIN hashes. */
export const EXPORT_FIELD_KEYS = FIELD_KEYS.filter((key): key is Exclude<FieldKey, 'pin'> => key !== 'pin');
export type ExportFieldKey = (typeof EXPORT_FIELD_KEYS)[number];

/** BioStar's export order (spec §1.1, fields 1–10); custom fields follow, sorted. */
export const BIOSTAR_EXPORT_COLUMNS: readonly ExportFieldKey[] = [
  'user_id',
  'name',
  'department',
  'user_title',
  'phone',
  'email',
  'user_group',
  'start_datetime',
  'expiry_datetime',
  'csn',
];

export function isFieldKey(value: string): value is FieldKey {
  return (FIELD_KEYS as readonly string[]).includes(value);
}
