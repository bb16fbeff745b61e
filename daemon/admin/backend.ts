/**
 * What the admin service needs from the running daemon. The daemon hands the server one
 * AdminBackend whose getters read its live parts, so a part that fails or restarts (the
 * transport, the drop folder) is seen as it is at each request, never as it was at start.
 */
import type { HashedPin } from '../model/pin-provenance.js';
import type { PinHashAudit } from '../pin-hash-audit.js';
import type { Store } from '../plugins/api.js';
import type { SyncEngine } from '../sync/engine.js';
import type { ExportResult, ImportProgress, ImportReport } from '../ingest/types.js';

/** The sync engine's operator surface (daemon/sync/engine.ts). */
export type AdminEngine = Pick<SyncEngine, 'status' | 'sync' | 'syncUser' | 'verify' | 'plan' | 'confirmRemovals' | 'config'> & Partial<Pick<SyncEngine, 'pendingDevices' | 'leftOff' | 'setEventStart' | 'cluster'>>;

/** The drop folder (daemon/ingest/drop-folder.ts), as the admin API uses it. */
export interface AdminDropFolder {
  /**
   * Takes `path` through the same path as a dropped file and resolves with its report. The
   * signal stops the waiting only; the import goes on in the drop folder.
   */
  importFile(path: string, options?: { signal?: AbortSignal; onProgress?: (progress: ImportProgress) => void }): Promise<ImportReport>;
  /** Writes every user in `format` into outgoing/, or into `out` (an existing folder, or a file path). */
  exportUsers(format: 'csv' | 'datafile', options?: { out?: string; signal?: AbortSignal }): Promise<ExportResult>;
}

/** One plugin's readiness, as /readyz reports it. */
export interface PluginReadiness {
  /** kind/name */
  id: string;
  kind: string;
  name: string;
  state: string;
  ok: boolean;
  detail?: string;
}

export interface DaemonInfo {
  state: string;
  version: string;
  pid: number;
  /** Unix ms. */
  startedAt: number;
  /** Absent when the daemon runs on defaults. */
  configFile?: string;
  plugins: PluginReadiness[];
  /** Whether /readyz would answer 200. */
  ready: boolean;
}

export interface AdminBackend {
  daemonInfo(): DaemonInfo;
  /** The open store; undefined while it is not open. */
  readonly store: Store | undefined;
  /** The running sync engine; undefined when the transport or the sync mode failed. */
  readonly engine: AdminEngine | undefined;
  /** The drop folder; undefined when no watcher runs. */
  readonly dropFolder: AdminDropFolder | undefined;
  /**
   * A folder on disk (not tmpfs: data files can be large) where uploads are kept until the
   * drop folder has copied them, and downloads until they are sent. Created when needed.
   */
  readonly stagingDir: string;
  logLevel(): string;
  /** Throws ROLLCALL_ERR_CONFIG_INVALID for an unknown level. */
  setLogLevel(level: string): void;
  /** The transport's hash of a plaintext PIN (base64 of 32 bytes); rejects when the gateway cannot. */
  hashPin(pin: string): Promise<string | HashedPin>;
  /**
   * Users whose PIN hash came from another gateway's scheme (daemon/pin-hash-audit.ts).
   * Undefined before the store is open.
   */
  readonly pinHashes?: Pick<PinHashAudit, 'count' | 'list'> | undefined;
}
