/**
 * How the fields of an admin message travel: from the daemon's value to the wire, and from
 * the wire to the CLI's --json. proto3 has no null, so on the wire an absent text is '' and an
 * absent number or message is left unset; in --json every key is present and absent is null.
 * Times are Unix milliseconds on the wire and ISO 8601 in --json.
 *
 * A message lists its fields once (`messageShape`), in --json key order; both directions are
 * made from that one list, so a field added to the list shows up on the wire and in --json.
 */

/** One field: its value on each side, and its name on the wire when that differs. */
export interface Field<Daemon, Wire, Json> {
  readonly wireKey?: string;
  /** A proto3 `optional` field: an optional key in ts-proto's type (other fields are always there). */
  readonly unsetOnWire?: true;
  toWire(value: Daemon): Wire;
  toJson(value: Wire): Json;
}

type AnyField = Field<any, any, any>;
export type Fields = Record<string, AnyField>;

type DaemonValue<F> = F extends Field<infer D, unknown, unknown> ? D : never;
type WireValue<F> = F extends Field<unknown, infer W, unknown> ? W : never;
type JsonValue<F> = F extends Field<unknown, unknown, infer J> ? J : never;
type WireKey<K, F> = F extends { readonly wireKey: infer N extends string } ? N : K;

type Unset<F> = F extends { readonly unsetOnWire: true } ? true : false;
type Flat<T> = { [K in keyof T]: T[K] };

/** In the daemon's types a value that may be undefined has an optional key. */
export type DaemonOf<F extends Fields> = Flat<
  { [K in keyof F as undefined extends DaemonValue<F[K]> ? K : never]?: DaemonValue<F[K]> } & { [K in keyof F as undefined extends DaemonValue<F[K]> ? never : K]: DaemonValue<F[K]> }
>;
/** As ts-proto types a message: proto3 `optional` fields have optional keys, the others are always there. */
export type WireOf<F extends Fields> = Flat<
  { [K in keyof F as Unset<F[K]> extends true ? WireKey<K, F[K]> : never]?: WireValue<F[K]> } & { [K in keyof F as Unset<F[K]> extends true ? never : WireKey<K, F[K]>]: WireValue<F[K]> }
>;
export type JsonOf<F extends Fields> = { [K in keyof F]: JsonValue<F[K]> };

export interface MessageShape<F extends Fields> {
  toWire(value: DaemonOf<F>): WireOf<F>;
  toJson(value: WireOf<F>): JsonOf<F>;
}

/** The same value on every side. */
export function kept<T>(): Field<T, T, T> {
  return { toWire: (value) => value, toJson: (value) => value };
}

/** A text that may be absent: '' on the wire, null in --json. */
export const text: Field<string | undefined, string, string | null> = {
  toWire: (value) => value ?? '',
  toJson: (value) => (value === '' ? null : value),
};

/** A value that may be absent: unset on the wire (a proto3 `optional`), null in --json. */
export function optional<T>(): Field<T | undefined, T | undefined, T | null> & { readonly unsetOnWire: true } {
  return { unsetOnWire: true, toWire: (value) => value, toJson: (value) => (value === undefined ? null : value) };
}

/** A time: Unix ms in the daemon and on the wire (named `wireKey` there), ISO 8601 in --json. */
export function time<K extends string>(wireKey: K): Field<number, number, string> & { readonly wireKey: K } {
  return { wireKey, toWire: (value) => value, toJson: (value) => new Date(value).toISOString() };
}

/** A message inside a message, which may be absent. */
export function nested<F extends Fields>(shape: MessageShape<F>): Field<DaemonOf<F> | undefined, WireOf<F> | undefined, JsonOf<F> | null> {
  return {
    toWire: (value) => (value === undefined ? undefined : shape.toWire(value)),
    toJson: (value) => (value === undefined ? null : shape.toJson(value)),
  };
}

/** Both directions of a message from its one list of fields. Fields not in the list are not carried. */
export function messageShape<F extends Fields>(fields: F): MessageShape<F> {
  const entries = Object.entries(fields);
  return {
    toWire(value) {
      const from = value as Record<string, unknown>;
      const wire: Record<string, unknown> = {};
      for (const [key, field] of entries) wire[field.wireKey ?? key] = field.toWire(from[key]);
      return wire as WireOf<F>;
    },
    toJson(value) {
      const from = value as Record<string, unknown>;
      const json: Record<string, unknown> = {};
      for (const [key, field] of entries) json[key] = field.toJson(from[field.wireKey ?? key]);
      return json as JsonOf<F>;
    },
  };
}
