/**
 * Device leases and instances on PostgreSQL (daemon/plugins/lease-api.ts; tables in
 * README.md, migration 2). Every time is the server's (`now()`), so the instances' own
 * clocks never decide who owns a device. Each operation is one statement, atomic per row:
 * of two instances taking a free lease at once, the second one's ON CONFLICT ... WHERE sees
 * the first one's row and takes nothing. Rows are locked in device order, so two
 * instances taking many leases at once cannot deadlock.
 *
 * `checkFences` runs inside a commit's transaction (postgres-store.ts): it locks the lease
 * rows it reads (FOR SHARE) until COMMIT, so a takeover (an UPDATE of the row) waits for
 * the commit, and a commit after a takeover sees the new epoch and is refused.
 */
import type pg from 'pg';
import type { DeviceLeases, Fence, HeldLease, InstanceRow, LeaseRow } from '../../../daemon/plugins/lease-api.js';
import { leaseLostError } from '../../../daemon/store/lease-errors.js';
import { toNumber } from './plan-writes.js';

type Query = <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) => Promise<pg.QueryResult<R>>;

/** Dead instances are forgotten this long after their last heartbeat. */
const FORGET_INSTANCES_AFTER = '1 day';

interface HeldRow {
  device_id: string;
  epoch: string;
  ttl_ms: number;
}

function held(rows: HeldRow[]): HeldLease[] {
  return rows.map((row) => ({ deviceId: toNumber(row.device_id), epoch: toNumber(row.epoch), ttlMs: Math.max(0, Math.floor(row.ttl_ms)) })).sort((a, b) => a.deviceId - b.deviceId);
}

function pairs(leases: readonly { deviceId: number; epoch: number }[]): [number[], number[]] {
  const sorted = [...leases].sort((a, b) => a.deviceId - b.deviceId);
  return [sorted.map((l) => l.deviceId), sorted.map((l) => l.epoch)];
}

const TTL_LEFT = `(extract(epoch FROM expires_at - now()) * 1000)::float8 AS ttl_ms`;

export class PostgresLeases implements DeviceLeases {
  readonly shared = true;
  readonly #query: Query;

  constructor(query: Query) {
    this.#query = query;
  }

  async heartbeat(instance: { id: string; host: string; ttlMs: number; fresh?: boolean }): Promise<void> {
    await this.#query(
      `INSERT INTO instances (id, host, started_at, seen_at, expires_at) VALUES ($1, $2, now(), now(), now() + $3 * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, seen_at = now(), expires_at = EXCLUDED.expires_at,
         started_at = CASE WHEN $4 THEN now() ELSE instances.started_at END`,
      [instance.id, instance.host, instance.ttlMs, instance.fresh === true],
    );
    if (instance.fresh) {
      // Leases an earlier run of this ID left: given back, so they are taken again with a new epoch.
      await this.#query('UPDATE leases SET owner = NULL, expires_at = now() WHERE owner = $1', [instance.id]);
      await this.#query(`DELETE FROM instances WHERE expires_at < now() - interval '${FORGET_INSTANCES_AFTER}'`);
    }
  }

  async acquire(owner: string, deviceIds: readonly number[], ttlMs: number): Promise<HeldLease[]> {
    const ids = [...new Set(deviceIds)].sort((a, b) => a - b);
    if (ids.length === 0) return [];
    const result = await this.#query<HeldRow>(
      `INSERT INTO leases AS l (device_id, owner, epoch, expires_at)
       SELECT d, $1, 1, now() + $3 * interval '1 millisecond' FROM unnest($2::bigint[]) AS d ORDER BY d
       ON CONFLICT (device_id) DO UPDATE SET owner = EXCLUDED.owner, epoch = l.epoch + 1, expires_at = EXCLUDED.expires_at
         WHERE l.owner IS NULL OR l.expires_at <= now()
       RETURNING device_id, epoch, ${TTL_LEFT}`,
      [owner, ids, ttlMs],
    );
    return held(result.rows);
  }

  async renew(owner: string, leases: readonly { deviceId: number; epoch: number }[], ttlMs: number): Promise<HeldLease[]> {
    if (leases.length === 0) return [];
    const [ids, epochs] = pairs(leases);
    const result = await this.#query<HeldRow>(
      `UPDATE leases AS l SET expires_at = now() + $4 * interval '1 millisecond'
       FROM unnest($2::bigint[], $3::bigint[]) AS h(device_id, epoch)
       WHERE l.device_id = h.device_id AND l.epoch = h.epoch AND l.owner = $1 AND l.expires_at > now()
       RETURNING l.device_id, l.epoch, (extract(epoch FROM l.expires_at - now()) * 1000)::float8 AS ttl_ms`,
      [owner, ids, epochs, ttlMs],
    );
    return held(result.rows);
  }

  async release(owner: string, leases: readonly { deviceId: number; epoch: number }[]): Promise<void> {
    if (leases.length === 0) return;
    const [ids, epochs] = pairs(leases);
    await this.#query(
      `UPDATE leases AS l SET owner = NULL, expires_at = now()
       FROM unnest($2::bigint[], $3::bigint[]) AS h(device_id, epoch)
       WHERE l.device_id = h.device_id AND l.epoch = h.epoch AND l.owner = $1`,
      [owner, ids, epochs],
    );
  }

  async leave(owner: string): Promise<void> {
    await this.#query('UPDATE leases SET owner = NULL, expires_at = now() WHERE owner = $1', [owner]);
    await this.#query('DELETE FROM instances WHERE id = $1', [owner]);
  }

  async list(): Promise<{ leases: LeaseRow[]; instances: InstanceRow[] }> {
    const leases = await this.#query<{ device_id: string; owner: string | null; epoch: string; live: boolean; ttl_ms: number }>(
      `SELECT device_id, owner, epoch, (owner IS NOT NULL AND expires_at > now()) AS live, ${TTL_LEFT} FROM leases ORDER BY device_id`,
    );
    const instances = await this.#query<{ id: string; host: string; started_at: number; seen_at: number; live: boolean }>(
      `SELECT id, host, (extract(epoch FROM started_at) * 1000)::float8 AS started_at, (extract(epoch FROM seen_at) * 1000)::float8 AS seen_at, expires_at > now() AS live
       FROM instances ORDER BY id`,
    );
    return {
      leases: leases.rows.map((row) => ({
        deviceId: toNumber(row.device_id),
        owner: row.owner ?? undefined,
        epoch: toNumber(row.epoch),
        live: row.live,
        ttlMs: row.live ? Math.max(0, Math.floor(row.ttl_ms)) : 0,
      })),
      instances: instances.rows.map((row) => ({ id: row.id, host: row.host, startedAt: Math.floor(row.started_at), seenAt: Math.floor(row.seen_at), live: row.live })),
    };
  }
}

/**
 * Inside a commit's transaction: refuses the commit (ROLLCALL_ERR_LEASE_LOST) unless every
 * fence's lease is held by its owner at its epoch and unexpired at this moment
 * (clock_timestamp(), not the transaction's start). The rows stay locked to COMMIT.
 */
export async function checkFences(client: pg.ClientBase, fences: readonly Fence[]): Promise<void> {
  if (fences.length === 0) return;
  const ids = [...new Set(fences.map((f) => f.deviceId))].sort((a, b) => a - b);
  const result = await client.query<{ device_id: string; owner: string; epoch: string }>(
    'SELECT device_id, owner, epoch FROM leases WHERE device_id = ANY($1::bigint[]) AND owner IS NOT NULL AND expires_at > clock_timestamp() ORDER BY device_id FOR SHARE',
    [ids],
  );
  const live = new Map(result.rows.map((row) => [toNumber(row.device_id), { owner: row.owner, epoch: toNumber(row.epoch) }]));
  const broken = fences.filter((f) => {
    const row = live.get(f.deviceId);
    return row === undefined || row.owner !== f.owner || row.epoch !== f.epoch;
  });
  if (broken.length > 0) throw leaseLostError(broken);
}
