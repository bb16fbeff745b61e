/**
 * What the admin service needs from the running daemon. The daemon hands the server one
 * AdminBackend whose getters read its live parts, so a part that fails or restarts (the
 * transport, the drop folder) is seen as it is at each request, never as it was at start.
 */
import type { Store } from '../plugins/api.js';
import type { SyncEngine } from '../sync/engine.js';
import type { ExportResult, ImportReport } from '../ingest/types.js';

/** The sync engine's operator surface (daemon/sync/engine.ts). */
export type AdminEngine = Pick<SyncEngine, 'status' | 'sync' | 'syncUser' | 'verify' | 'plan' | 'confirmRemovals' | 'config'>;

/** How far an import or export has come; any field the drop folder does not know is absent. */
export interface DropFolderProgress {
  /** Records (rows, users) handled so far. */
  rows?: number;
  /** Records in the whole file, when known. */
  totalRows?: number;
  /** Bytes of the file read so far. */
  bytes?: number;
  totalBytes?: number;
}

/** The drop folder (daemon/ingest/drop-folder.ts), as the admin API uses it. */
export interface AdminDropFolder {
  /** Takes `path` through the same path as a dropped file; resolves with its report. */
  importFile(path: string, options?: { signal?: AbortSignal; onProgress?: (progress: DropFolderProgress) => void }): Promise<ImportReport>;
  /** Writes every user in `format` to outgoing/ (or into the folder `out`). */
  exportUsers(format: 'csv' | 'datafile', options?: { out?: string; onProgress?: (progress: DropFolderProgress) => void }): Promise<ExportResult>;
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
  hashPin(pin: string): Promise<string>;
}
