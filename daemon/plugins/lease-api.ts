/**
 * The lease part of the store contract (issue 16 item 2): which rollcall instance owns
 * which device, so that several instances on one shared store serve one fleet and never
 * call one device at once. Re-exported by api.ts, whose Store carries it as `leases`.
 *
 * A lease row per device: owner, expiry in the store's own clock (PostgreSQL's now(), so
 * instance clocks may disagree), and a fencing epoch that grows on every change of owner.
 * A commit that names a fence (CommitOptions.fences) is applied only while that fence
 * still holds, and the store checks it inside the commit's own transaction.
 *
 * A store that only one process can open (LevelDB, memory) implements this trivially:
 * every lease is granted at once, never expires and never changes owner
 * (daemon/store/solo-leases.ts), so the engine runs the same code on every store.
 */

/** One lease as this instance holds it. */
export interface HeldLease {
  deviceId: number;
  epoch: number;
  /** How long it still runs, in ms, as the store measured it when it answered (Infinity: never expires). */
  ttlMs: number;
}

/** A lease as anyone reads it. */
export interface LeaseRow {
  deviceId: number;
  /** The instance that holds it; undefined once released. */
  owner: string | undefined;
  epoch: number;
  /** Whether it runs now (store clock): an expired or released lease may be taken. */
  live: boolean;
  /** ms left (0 when expired; Infinity: never expires). */
  ttlMs: number;
}

/** An instance that joined the store. */
export interface InstanceRow {
  id: string;
  host: string;
  /** Unix ms (store clock) of its start and its last heartbeat. */
  startedAt: number;
  seenAt: number;
  /** Whether its heartbeat is recent enough (store clock): instances not live get no share. */
  live: boolean;
}

/** What a commit is fenced by: it applies only while `owner` holds the device's lease at `epoch`, unexpired. */
export interface Fence {
  deviceId: number;
  owner: string;
  epoch: number;
}

export interface CommitOptions {
  /** Every fence must hold inside the commit, or nothing of it is applied (ROLLCALL_ERR_LEASE_LOST). */
  fences?: readonly Fence[];
  /**
   * Claims an import in the ledger, atomically across instances: the commit applies only if
   * the ledger's record of `hash` is still the one read (`expect`; undefined: none), compared
   * by state, start and claimer; else nothing of it is applied (ROLLCALL_ERR_IMPORT_CLAIMED).
   */
  claim?: ImportClaim;
  /**
   * An earlier commit of this store's (the promise its commit() returned) that this one
   * follows: a pipelined import prepares its next batch while the one before is written.
   * If that commit failed, this one applies nothing and rejects with the same error, so a
   * batch and its checkpoint never land past a batch that did not.
   */
  after?: Promise<unknown>;
}

export interface ImportClaim {
  hash: string;
  expect: { state: 'running' | 'done' | 'failed'; startedAt: number; claimedBy?: string } | undefined;
}

export interface DeviceLeases {
  /** Whether leases may change hands (several instances share this store). False: trivially held. */
  readonly shared: boolean;
  /**
   * Registers or heartbeats an instance; `ttlMs` is how long it counts as live without
   * another heartbeat. `fresh` on the first heartbeat of a process: leases the same ID still
   * holds from an earlier run are released (their epoch grows when taken again).
   */
  heartbeat(instance: { id: string; host: string; ttlMs: number; fresh?: boolean }): Promise<void>;
  /**
   * Takes the leases of these devices that are free, released or expired (a new epoch each),
   * for `ttlMs`. Atomic per device across instances: of two instances asking at once, one
   * gets it. Resolves with the leases taken.
   */
  acquire(owner: string, deviceIds: readonly number[], ttlMs: number): Promise<HeldLease[]>;
  /** Extends these held leases by `ttlMs`; resolves with those still held (owner and epoch match, unexpired). */
  renew(owner: string, held: readonly { deviceId: number; epoch: number }[], ttlMs: number): Promise<HeldLease[]>;
  /** Gives these leases back (when owner and epoch still match). */
  release(owner: string, held: readonly { deviceId: number; epoch: number }[]): Promise<void>;
  /** Releases every lease of `owner` and forgets the instance (a graceful stop). */
  leave(owner: string): Promise<void>;
  /** Every lease and every instance, for balancing and for `rollcall status`. */
  list(): Promise<{ leases: LeaseRow[]; instances: InstanceRow[] }>;
}
