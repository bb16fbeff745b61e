/**
 * The SQL of one commit: a numbered plan (daemon/store/commit-plan.ts) written with one
 * statement (a multi-row CTE per table), inside the transaction the store opened; and the one row
 * of numbers the store reads at open and after a reconnect. The tables are in README.md.
 */
import type pg from 'pg';
import type { CommitPlan } from '../../../daemon/store/commit-plan.js';
import type { NumberingBase } from '../../../daemon/store/abstract-store.js';

export type Queryable = Pick<pg.ClientBase, 'query'>;

// bigint columns arrive as strings (they can exceed 2^53 in general; ours never do).
export const toNumber = (value: string | number): number => Number(value);
/** User IDs and import hashes are stored as their UTF-8 bytes. */
export const idBytes = (id: string): Buffer => Buffer.from(id, 'utf8');
export const idText = (bytes: Buffer): string => bytes.toString('utf8');

export async function readState(db: Queryable): Promise<NumberingBase> {
  const result = await db.query<{ seq: string; last_event_id: string }>('SELECT seq, last_event_id FROM store_state');
  const row = result.rows[0];
  if (!row) throw new Error('store_state has no row: the schema was changed by hand');
  return { seq: toNumber(row.seq), lastEventId: toNumber(row.last_event_id) };
}

/**
 * One part of the commit's statement: a data-modifying CTE over arrays bound as parameters.
 * `sql` names its parameters `$1`, `$2`, ... of its own; they are renumbered when joined.
 */
interface WritePart {
  name: string;
  sql: string;
  params: unknown[];
}

/**
 * JSON texts as one JSON array. The statement splits it with json_array_elements: the texts
 * travel as they are, where a json[] parameter would have every quote and backslash escaped
 * (by pg's array literal, then unescaped by the server), a cost per byte of every record.
 */
const jsonArray = (texts: readonly string[]): string => `[${texts.join(',')}]`;

/** What one plan writes, as the parts of one statement; the parts present give its shape. */
function writeParts(plan: CommitPlan): WritePart[] {
  const parts: WritePart[] = [];
  const upserts = plan.users.filter((u) => u.op === 'upsert');
  const deletes = plan.users.filter((u) => u.op === 'delete');
  if (upserts.length > 0) {
    parts.push({
      name: 'u',
      sql: `INSERT INTO users (id, record) SELECT * FROM ROWS FROM (unnest($1::bytea[]), json_array_elements($2::json))
       ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record RETURNING (xmax = 0) AS inserted`,
      params: [upserts.map((u) => idBytes(u.userId)), jsonArray(upserts.map((u) => (u.op === 'upsert' ? u.record : 'null')))],
    });
  }
  if (deletes.length > 0) {
    parts.push({ name: 'd', sql: 'DELETE FROM users WHERE id = ANY($1::bytea[]) RETURNING 1', params: [deletes.map((u) => idBytes(u.userId))] });
  }
  if (plan.users.length > 0) {
    // An import's batch shares one origin object (prepareMutations copies it once): written once per object.
    const originText = new Map<unknown, string>();
    const origin = (value: unknown): string => {
      let text = originText.get(value);
      if (text === undefined) originText.set(value, (text = JSON.stringify(value)));
      return text;
    };
    parts.push({
      name: 'f',
      sql: `INSERT INTO feed (seq, user_id, op, at, origin)
       SELECT seq, user_id, op, $4::bigint, origin FROM ROWS FROM (unnest($1::bigint[]), unnest($2::bytea[]), unnest($3::text[]), json_array_elements($5::json)) AS t(seq, user_id, op, origin)
       ON CONFLICT (user_id) DO UPDATE SET seq = EXCLUDED.seq, op = EXCLUDED.op, at = EXCLUDED.at, origin = EXCLUDED.origin`,
      params: [plan.users.map((u) => u.seq), plan.users.map((u) => idBytes(u.userId)), plan.users.map((u) => u.op), plan.at, jsonArray(plan.users.map((u) => origin(u.origin)))],
    });
  }
  const setCursors = plan.cursors.filter((c) => c.seq !== null);
  const dropCursors = plan.cursors.filter((c) => c.seq === null);
  if (setCursors.length > 0) {
    parts.push({
      name: 'cs',
      sql: `INSERT INTO cursors (device_id, seq) SELECT * FROM unnest($1::bigint[], $2::bigint[])
       ON CONFLICT (device_id) DO UPDATE SET seq = EXCLUDED.seq`,
      params: [setCursors.map((c) => c.deviceId), setCursors.map((c) => c.seq)],
    });
  }
  if (dropCursors.length > 0) parts.push({ name: 'cd', sql: 'DELETE FROM cursors WHERE device_id = ANY($1::bigint[])', params: [dropCursors.map((c) => c.deviceId)] });
  const putDevices = plan.devices.filter((d) => d.device !== null && !d.ifAbsent);
  const addDevices = plan.devices.filter((d) => d.device !== null && d.ifAbsent);
  const dropDevices = plan.devices.filter((d) => d.device === null);
  if (putDevices.length > 0) {
    parts.push({
      name: 'ds',
      sql: `INSERT INTO devices (id, record) SELECT * FROM ROWS FROM (unnest($1::bigint[]), json_array_elements($2::json))
       ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record`,
      params: [putDevices.map((d) => d.deviceId), jsonArray(putDevices.map((d) => JSON.stringify(d.device)))],
    });
  }
  if (addDevices.length > 0) {
    // Another instance may have recorded the device since it was looked up: its record stays.
    parts.push({
      name: 'da',
      sql: `INSERT INTO devices (id, record) SELECT * FROM ROWS FROM (unnest($1::bigint[]), json_array_elements($2::json))
       ON CONFLICT (id) DO NOTHING`,
      params: [addDevices.map((d) => d.deviceId), jsonArray(addDevices.map((d) => JSON.stringify(d.device)))],
    });
  }
  if (dropDevices.length > 0) parts.push({ name: 'dd', sql: 'DELETE FROM devices WHERE id = ANY($1::bigint[])', params: [dropDevices.map((d) => d.deviceId)] });
  if (plan.imports.length > 0) {
    parts.push({
      name: 'i',
      sql: `INSERT INTO imports (hash, state, started_at, record)
       SELECT * FROM ROWS FROM (unnest($1::bytea[]), unnest($2::text[]), unnest($3::float8[]), json_array_elements($4::json))
       ON CONFLICT (hash) DO UPDATE SET state = EXCLUDED.state, started_at = EXCLUDED.started_at, record = EXCLUDED.record`,
      params: [plan.imports.map((r) => idBytes(r.hash)), plan.imports.map((r) => r.state), plan.imports.map((r) => r.startedAt), jsonArray(plan.imports.map((r) => JSON.stringify(r)))],
    });
  }
  if (plan.events.length > 0) {
    parts.push({
      name: 'e',
      sql: `INSERT INTO events (id, at, kind, user_id, device_id, event)
       SELECT * FROM ROWS FROM (unnest($1::bigint[]), unnest($2::bigint[]), unnest($3::text[]), unnest($4::bytea[]), unnest($5::bigint[]), json_array_elements($6::json))`,
      params: [
        plan.events.map((e) => e.id),
        plan.events.map((e) => e.at),
        plan.events.map((e) => e.kind),
        plan.events.map((e) => (e.userId === undefined ? null : idBytes(e.userId))),
        plan.events.map((e) => e.deviceId ?? null),
        jsonArray(plan.events.map((e) => JSON.stringify(e))),
      ],
    });
  }
  return parts;
}

/** The one statement of `parts`: their CTEs, parameters renumbered in order, and the change in the user count. */
function statementOf(parts: readonly WritePart[]): string {
  let offset = 0;
  const ctes = parts.map((part) => {
    const renumbered = part.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    offset += part.params.length;
    return `${part.name} AS (${renumbered})`;
  });
  const has = (name: string): boolean => parts.some((p) => p.name === name);
  const inserted = has('u') ? '(SELECT count(*) FROM u WHERE inserted)' : '0';
  const deleted = has('d') ? '(SELECT count(*) FROM d)' : '0';
  return `WITH ${ctes.join(',\n')}\nSELECT ${inserted} - ${deleted} AS user_delta`;
}

/**
 * Writes what a plan holds with one statement: a data-modifying CTE per table (all run, to
 * completion, in the one statement's snapshot; a plan has at most one entry per key, so no
 * row is touched twice), the arrays bound as parameters. One round trip for the whole
 * plan, and a prepared statement per shape, so a commit costs the server one parse and
 * plan per connection and shape, not per commit. Returns the change in the user count.
 */
export async function writePlan(client: Queryable, plan: CommitPlan): Promise<number> {
  const parts = writeParts(plan);
  if (parts.length === 0) return 0;
  const text = statementOf(parts);
  const result = await client.query<{ user_delta: string }>({
    name: `rollcall_plan_${parts.map((p) => p.name).join('_')}`,
    text,
    values: parts.flatMap((p) => p.params),
  });
  return toNumber(result.rows[0]!.user_delta);
}
