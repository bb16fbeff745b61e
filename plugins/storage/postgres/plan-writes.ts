/**
 * The SQL of one commit: a numbered plan (daemon/store/commit-plan.ts) written with one
 * multi-row statement per table, inside the transaction the store opened; and the one row
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

/** Writes what a plan holds with one multi-row statement per table; returns the change in the user count. */
export async function writePlan(client: Queryable, plan: CommitPlan): Promise<number> {
  let userDelta = 0;
  const upserts = plan.users.filter((u) => u.op === 'upsert');
  const deletes = plan.users.filter((u) => u.op === 'delete');
  if (upserts.length > 0) {
    const result = await client.query<{ inserted: boolean }>(
      `INSERT INTO users (id, record) SELECT * FROM unnest($1::bytea[], $2::json[])
       ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record
       RETURNING (xmax = 0) AS inserted`,
      [upserts.map((u) => idBytes(u.userId)), upserts.map((u) => (u.op === 'upsert' ? u.record : ''))],
    );
    for (const row of result.rows) if (row.inserted) userDelta += 1;
  }
  if (deletes.length > 0) {
    const result = await client.query('DELETE FROM users WHERE id = ANY($1::bytea[])', [deletes.map((u) => idBytes(u.userId))]);
    userDelta -= result.rowCount ?? 0;
  }
  if (plan.users.length > 0) {
    await client.query(
      `INSERT INTO feed (seq, user_id, op, at, origin) SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::text[], $4::bigint[], $5::json[])
       ON CONFLICT (user_id) DO UPDATE SET seq = EXCLUDED.seq, op = EXCLUDED.op, at = EXCLUDED.at, origin = EXCLUDED.origin`,
      [
        plan.users.map((u) => u.seq),
        plan.users.map((u) => idBytes(u.userId)),
        plan.users.map((u) => u.op),
        plan.users.map(() => plan.at),
        plan.users.map((u) => JSON.stringify(u.origin)),
      ],
    );
  }
  const setCursors = plan.cursors.filter((c) => c.seq !== null);
  const dropCursors = plan.cursors.filter((c) => c.seq === null);
  if (setCursors.length > 0) {
    await client.query(
      `INSERT INTO cursors (device_id, seq) SELECT * FROM unnest($1::bigint[], $2::bigint[])
       ON CONFLICT (device_id) DO UPDATE SET seq = EXCLUDED.seq`,
      [setCursors.map((c) => c.deviceId), setCursors.map((c) => c.seq)],
    );
  }
  if (dropCursors.length > 0) await client.query('DELETE FROM cursors WHERE device_id = ANY($1::bigint[])', [dropCursors.map((c) => c.deviceId)]);
  const putDevices = plan.devices.filter((d) => d.device !== null);
  const dropDevices = plan.devices.filter((d) => d.device === null);
  if (putDevices.length > 0) {
    await client.query(
      `INSERT INTO devices (id, record) SELECT * FROM unnest($1::bigint[], $2::json[])
       ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record`,
      [putDevices.map((d) => d.deviceId), putDevices.map((d) => JSON.stringify(d.device))],
    );
  }
  if (dropDevices.length > 0) await client.query('DELETE FROM devices WHERE id = ANY($1::bigint[])', [dropDevices.map((d) => d.deviceId)]);
  if (plan.imports.length > 0) {
    await client.query(
      `INSERT INTO imports (hash, state, started_at, record) SELECT * FROM unnest($1::bytea[], $2::text[], $3::float8[], $4::json[])
       ON CONFLICT (hash) DO UPDATE SET state = EXCLUDED.state, started_at = EXCLUDED.started_at, record = EXCLUDED.record`,
      [
        plan.imports.map((r) => idBytes(r.hash)),
        plan.imports.map((r) => r.state),
        plan.imports.map((r) => r.startedAt),
        plan.imports.map((r) => JSON.stringify(r)),
      ],
    );
  }
  if (plan.events.length > 0) {
    await client.query(
      `INSERT INTO events (id, at, kind, user_id, device_id, event)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bytea[], $5::bigint[], $6::json[])`,
      [
        plan.events.map((e) => e.id),
        plan.events.map((e) => e.at),
        plan.events.map((e) => e.kind),
        plan.events.map((e) => (e.userId === undefined ? null : idBytes(e.userId))),
        plan.events.map((e) => e.deviceId ?? null),
        plan.events.map((e) => JSON.stringify(e)),
      ],
    );
  }
  return userDelta;
}
