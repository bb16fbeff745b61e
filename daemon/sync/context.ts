/**
 * What every part of the sync engine is given (STYLE §3: injected, never imported): the
 * store, the transport, the live settings, the clock, the logger and metrics, and the
 * signal that fires when the engine stops. `config` and `mode` are read at each use: a
 * reload replaces them (SyncSettings), and no part keeps its own copy.
 */
import type { Logger } from 'pino';
import type { CommitResult, Mutation, Store, SyncModeInstance, TransportInstance } from '../plugins/api.js';
import type { SyncConfig } from '../config/schema.js';
import type { SyncMetrics } from './metrics.js';
import type { FanoutTracker } from './fanout.js';

export interface SyncContext {
  readonly store: Store;
  readonly transport: TransportInstance;
  readonly logger: Logger;
  readonly metrics: SyncMetrics;
  readonly fanout: FanoutTracker;
  /** Unix ms; every time stamp and timer decision in daemon/sync reads this clock. */
  now(): number;
  /** Fires when the engine stops; every gateway call listens to it. */
  readonly signal: AbortSignal;
  /** The sync settings in force (replaced on reload). */
  readonly config: SyncConfig;
  /** The sync mode in force (replaced on reload). */
  readonly mode: SyncModeInstance;
  /**
   * Commits about devices (cursors, device records, event positions, merges read from a
   * device), fenced by this instance's leases of them: refused inside the commit when one is
   * no longer held (daemon/cluster/member.ts).
   */
  readonly leases: FencedCommits;
}

export interface FencedCommits {
  commit(deviceIds: readonly number[], mutations: Mutation[]): Promise<CommitResult>;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
