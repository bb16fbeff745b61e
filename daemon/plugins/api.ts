/**
 * The plugin contract (ARCHITECTURE §3). A plugin module's default export is a
 * PluginDefinition. The host validates its config against `configSchema`, calls
 * `create(ctx, config)` (which only assigns fields), then `start(signal)`, and at the
 * end `stop()` in reverse start order. Every call is wrapped by the host: a throw marks
 * the plugin failed under its kind and name and the daemon carries on.
 *
 * One file over 400 lines on purpose: it is the whole contract a third-party plugin
 * implements (every kind's interface and the types they share), read in one place, and it
 * holds only types.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Metrics } from '../obs/metrics.js';
import type { User, Origin } from '../model/user.js';
import type { UserSummary } from '../model/user-summary.js';
import type { DeviceRecord } from '../model/device.js';
import type { DeviceHolds } from '../model/device-copy.js';
import type { Writable } from 'node:stream';
import type { EventKind } from '../event-kinds.js';
import type { CommitOptions, DeviceLeases } from './lease-api.js';

export type { CommitOptions, DeviceLeases, Fence, HeldLease, ImportClaim, InstanceRow, LeaseRow } from './lease-api.js';

export type PluginKind = 'storage' | 'transport' | 'sync-mode' | 'watcher';

export interface HealthReport {
  ok: boolean;
  /** Short human reason when not ok, or a status line. */
  detail?: string;
}

/** What every plugin instance may implement. */
export interface PluginInstance {
  /** Does the work `create` must not do. Must finish within the host's start limit. */
  start?(signal: AbortSignal): Promise<void>;
  /** Releases everything; must finish within the host's stop deadline. */
  stop?(): Promise<void>;
  /** Feeds /readyz. */
  health?(): HealthReport;
  /** Applies a new config on SIGHUP; keys marked requiresRestart never reach it changed. */
  reload?(config: unknown): Promise<void> | void;
}

export interface PluginContext {
  /** pino child logger bound to { plugin: `${kind}/${name}` }. */
  logger: Logger;
  /** Registers metrics on the daemon's one registry. */
  metrics: Metrics;
  /** Fires when the daemon stops. */
  signal: AbortSignal;
  /** A directory that belongs to this plugin alone (created by the host). */
  dataDir: string;
  /** The open store; absent only for storage plugins themselves. */
  store?: Store;
  /**
   * This instance's name among those sharing a store (`cluster.instanceId`); a transport
   * names it on every call. Absent only where no daemon runs the plugin (tests of one part).
   */
  instanceId?: string;
  /** Other started plugins, for the few that need one (watchers need the transport for PIN hashes). */
  lookup<K extends PluginKind>(kind: K, name?: string): KindInstance[K] | undefined;
}

export interface PluginDefinition<C = unknown, I extends PluginInstance = PluginInstance> {
  kind: PluginKind;
  name: string;
  /** One line for `rollcall plugins` and the README. */
  description: string;
  /**
   * Where this plugin's config lives in the config file, as a dotted path. Default by
   * kind: `storage.<name>`, `transport.<name>`, `sync.modes.<name>`, `watchers.<name>`.
   */
  configKey?: string;
  /**
   * zod schema of this plugin's config, with defaults and `.describe()` on every key.
   * Mark keys a reload cannot apply with `.meta({ requiresRestart: true })` and file
   * paths with `.meta({ path: true })` (made absolute against the config file's folder).
   */
  configSchema: z.ZodType<C>;
  /** Only assigns fields. */
  create(ctx: PluginContext, config: C): I;
  /**
   * Storage plugins that keep files: repairs them offline (`rollcall store repair`, with
   * the daemon stopped). `dataDir` is the plugin's data directory, as `create` gets it.
   */
  repair?(ctx: { dataDir: string; logger: Logger }, config: C, options: { dropCorrupt: boolean }): Promise<StoreRepairReport>;
}

/** What `rollcall store repair` prints (`lines`) and returns with `--json` (`detail`); `ok` is false while damage remains. */
export interface StoreRepairReport {
  ok: boolean;
  lines: string[];
  detail: Record<string, unknown>;
}

// ---------------------------------------------------------------------------
// storage

/** One entry of the change feed: the latest op for one user. */
export interface Change {
  seq: number;
  userId: string;
  op: 'upsert' | 'delete';
  /** Unix ms of the commit, for sync-latency metrics. */
  at: number;
  origin: Origin;
}

export type Mutation =
  | { type: 'putUser'; user: User; origin: Origin }
  | { type: 'deleteUser'; userId: string; origin: Origin }
  | { type: 'setCursor'; deviceId: number; seq: number }
  /**
   * `ifAbsent`: written only if the store holds no record of the device at commit time (a
   * device found on the gateway: another instance sharing the store may have recorded it
   * first, and own it).
   */
  | { type: 'putDevice'; device: DeviceRecord; ifAbsent?: boolean }
  | { type: 'deleteDevice'; deviceId: number }
  | { type: 'putImport'; record: ImportRecord }
  | { type: 'appendEvent'; event: NewEvent };

export interface ImportRecord {
  /** sha256 of the file's content, hex. The ledger key. */
  hash: string;
  /** File name as dropped (no directory). */
  file: string;
  format: string;
  state: 'running' | 'done' | 'failed';
  startedAt: number;
  finishedAt?: number;
  /** Rows (or records) fully handled so far; a resumed import skips this many. */
  checkpoint: number;
  counts: { ok: number; failed: number; skipped: number };
  /** Why a failed import failed, when it failed as a whole. */
  reason?: string;
  /**
   * Rows that failed because the gateway answered it would not hash their PIN: not the
   * file's fault, so the same content dropped again is imported again, not skipped.
   */
  pinRefused?: number;
  /**
   * The PIN hash scheme (pin-provenance.ts) of the gateway that hashed this file's PINs. The
   * same content dropped again after a switch to a gateway of another scheme is imported
   * again, so its PINs are hashed again (ledger.ts).
   */
  pinHashScheme?: string;
  /** The instance that runs (or ran) it (cluster.instanceId): a running import of a live other instance is not resumed here. */
  claimedBy?: string;
}

export interface NewEvent {
  /** One of the catalogue's kinds (daemon/event-kinds.ts), e.g. 'user.update.server', 'sync.enroll.failed'. */
  kind: EventKind;
  /** The BioStar-style text an operator reads, e.g. "User update succeeded (Server)". */
  message: string;
  /** Unix ms; the store fills it in when absent. */
  at?: number;
  userId?: string;
  deviceId?: number;
  /** Structured extra fields. Never secrets: no PINs, templates, photos or card data. */
  detail?: Record<string, unknown>;
}

export interface StoredEvent extends Required<Pick<NewEvent, 'message' | 'at'>> {
  /** Increasing event ID. */
  id: number;
  /**
   * The kind it was written with. A string, not `EventKind`: a log written by an older
   * daemon may hold a kind the catalogue no longer lists, and it is read back as it was.
   */
  kind: string;
  userId?: string;
  deviceId?: number;
  detail?: Record<string, unknown>;
}

export interface EventQuery {
  /** Unix ms, inclusive. */
  since?: number;
  /** Unix ms, exclusive. */
  until?: number;
  userId?: string;
  deviceId?: number;
  /** Exact kind, or a prefix ending in '.' ('sync.' matches 'sync.enroll.failed'). */
  kind?: string;
  /** Only events with id > afterId (for following). */
  afterId?: number;
  limit?: number;
}

export interface CommitResult {
  /** The store's sequence after the commit. Commits without user changes leave it unchanged. */
  seq: number;
}

/**
 * A domain-level store (ARCHITECTURE §3–4), not a key-value map, so that a PostgreSQL
 * backend shared by several daemons can implement it. Public methods check arguments
 * and state; backends implement the protected `_` methods of AbstractStore.
 */
export interface Store extends PluginInstance {
  /** Opens the store; the host calls it as `start`. */
  start(signal?: AbortSignal): Promise<void>;
  /** Closes it; nothing committed is lost. */
  stop(): Promise<void>;

  /**
   * Applies every mutation or none. Each putUser/deleteUser takes the next seq (a user
   * named twice in one commit uses two seqs; its later op is its feed entry). Cursors are
   * checked against the seq when the commit's turn comes. With `fences`, the commit applies
   * only while every fence holds, checked inside it (lease-api.ts).
   */
  commit(mutations: Mutation[], options?: CommitOptions): Promise<CommitResult>;

  /** Which instance owns which device (lease-api.ts); trivially held on a store one process opens. */
  readonly leases: DeviceLeases;

  getUser(id: string): Promise<User | undefined>;
  getUsers(ids: string[]): Promise<(User | undefined)[]>;
  /** Users in ID order (byte order), starting after `after`. */
  scanUsers(options?: { after?: string; limit?: number }): AsyncIterable<User>;
  /**
   * The summary (daemon/model/user-summary.ts) of every user, in the order of scanUsers and in
   * pages (a check of 500,000 users pays per page, not per user, for crossing into the store):
   * what a header check needs, without reading whole records. Always that of the committed
   * record: a commit changes a user and its summary together.
   */
  scanUserSummaries(): AsyncIterable<readonly UserSummary[]>;
  countUsers(): Promise<number>;

  /** The last committed seq (0 for an empty store). */
  currentSeq(): number;
  /** Changes with seq > `seq`, oldest first, at most one per user (its latest op). */
  changesSince(seq: number, options?: { limit?: number }): Promise<Change[]>;
  /**
   * Every change with seq ≥ feedHorizon() is still in the feed (or superseded). A cursor
   * `c` has missed nothing iff `c + 1 >= feedHorizon()`; otherwise the device needs a
   * reconcile.
   */
  feedHorizon(): Promise<number>;
  /** Resolves with the new seq once currentSeq() > seq; rejects with the signal's reason. */
  waitForSeq(seq: number, signal?: AbortSignal): Promise<number>;
  /** Removes tombstones committed before `before` (Unix ms). Returns how many. */
  pruneTombstones(before: number): Promise<number>;

  cursor(deviceId: number): Promise<number>;
  getDevice(id: number): Promise<DeviceRecord | undefined>;
  listDevices(): Promise<DeviceRecord[]>;

  getImport(hash: string): Promise<ImportRecord | undefined>;
  listImports(options?: { state?: ImportRecord['state'] }): Promise<ImportRecord[]>;

  queryEvents(query?: EventQuery): Promise<StoredEvent[]>;
}

// ---------------------------------------------------------------------------
// sync-mode

export interface SyncModeInstance extends PluginInstance {
  /** Whether `device` should hold `user`. */
  targets(user: User, device: DeviceRecord): boolean;
  /**
   * Optional: the answer of `targets` from the user's summary alone (its ID and access
   * groups), so that a check of a large device need not read whole users. Without it,
   * checks read every user.
   */
  targetsSummary?(user: UserSummary, device: DeviceRecord): boolean;
  /** Whether enrollments and edits made at a device are merged into the database. */
  readonly acceptsDeviceChanges: boolean;
  /** Whether changes are pushed as they commit (false: they wait for an operator's sync). */
  readonly autoPush: boolean;
  /**
   * Optional: devices with the same key are targeted identically (targets gives the same
   * answer for every user), so a check of many devices reads the users once. Without it,
   * each device's expected set is computed on its own.
   */
  placementKey?(device: DeviceRecord): string;
}

// ---------------------------------------------------------------------------
// transport and watcher instances are declared by their modules; the host only needs
// the common PluginInstance surface. Their interfaces are re-exported here so that
// `lookup` is typed.

/** Options every device-side call takes. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the transport's default deadline for this call. */
  deadlineMs?: number;
  /**
   * Called right before each request of the call goes out (every page of a paged call, every
   * message of a split one), synchronously: when it throws, that request is not sent and the
   * call rejects with its error. The sync engine refuses so a call about a device whose lease
   * this instance may have lost (daemon/cluster/leased-transport.ts).
   */
  admit?: () => void;
}

/**
 * A device's connection as the gateway reports it (connect.Status), in words: connected
 * over TCP or TLS, disconnected, cannot connect (the gateway cannot reach it), not allowed
 * (the device or the gateway refused the link), or a value this rollcall does not know.
 */
export type LinkState =
  | 'tcp-connected'
  | 'tls-connected'
  | 'disconnected'
  | 'tcp-cannot-connect'
  | 'tcp-not-allowed'
  | 'tls-cannot-connect'
  | 'tls-not-allowed'
  | 'unknown';

/** A device-to-server device that dialled in and waits for the gateway's accept filter. */
export interface PendingDevice {
  id: number;
  address?: string;
  /** Unix seconds of its last try, as the gateway says. */
  lastTry?: number;
  type?: number;
}

/** A device the gateway knows. */
export interface GatewayDevice {
  id: number;
  connected: boolean;
  /** Its connection as the gateway reports it. */
  state?: LinkState;
  address?: string;
  port?: number;
  /** device.Type, when the gateway reports it. */
  type?: number;
}

/** What a device says about itself; fields a device does not report are absent. */
export interface DeviceProfile {
  type?: number;
  maxUsers?: number;
  /** finger.TemplateFormat: 0 SUPREMA, 1 ISO, 2 ANSI. */
  templateFormat?: number;
  alphanumericIdSupported?: boolean;
  alphanumericIdEnabled?: boolean;
  /**
   * Which credentials the device holds per user, and how many (daemon/model/device-copy.ts):
   * the engine sends it only those. A field not reported is absent and leaves nothing off.
   */
  holds?: DeviceHolds;
}

/** GetList's header of one user on a device: enough for the cheap reconcile check. */
export interface DeviceUserHeader {
  id: string;
  cards: number;
  fingers: number;
  faces: number;
}

/**
 * Why a device did not do an operation, as the engine acts on it (STYLE §16): the
 * transport maps its wire codes to these, and the engine never compares wire numbers.
 * - `refused`: the device will not take this content (a rule, a format): send it apart.
 * - `absent`: the user is not on the device (a delete of it is as good as done).
 * - `full`: the device has no room for more users.
 * - `unavailable`: the device (or the gateway) cannot be reached or will not serve the call
 *   now; try again later (backoff, quarantine after repeated failures).
 * - `timeout`: the call ran out of time: the engine sends the batch again in smaller parts,
 *   and backs off only when a single user still times out.
 * - `unknown`: a code that says nothing about the device (an internal error): it may be one
 *   user's content, so the engine splits the batch to find the user(s) and refuses those.
 */
export type FailureReason = 'refused' | 'absent' | 'full' | 'unavailable' | 'timeout' | 'unknown';

export interface DeviceFailure {
  reason: FailureReason;
  /** The transport's raw code for that device (gRPC status code), for the log only. */
  code: number;
  codeName: string;
  message: string;
}

/** The outcome of a call made to several devices at once. */
export interface MultiOutcome {
  ok: number[];
  failed: Map<number, DeviceFailure>;
}

export interface DeviceEvent {
  /** Per-device increasing event ID. */
  id: number;
  deviceId: number;
  /** Unix seconds, device clock. */
  timestamp: number;
  eventCode: number;
  subCode: number;
  userId?: string;
  changedOnDevice: boolean;
}

export interface DeviceStatusChange {
  deviceId: number;
  connected: boolean;
  /** connect.Status value. */
  status: number;
  /** The same, in words. */
  state?: LinkState;
  timestamp: number;
}

/** A server stream: iterate it; cancel() ends the iteration without an error. */
export interface DeviceStream<T> extends AsyncIterable<T> {
  cancel(): void;
}

/**
 * The device side, in domain terms (users as daemon/model/user.ts). The sync engine sees
 * only this; how a transport reaches devices (G-SDK over gRPC for `gsdk`) is its own.
 * Every call has a deadline; multi-device calls report per-device failures instead of
 * failing whole, and reject only when the call itself failed for every device.
 */
export interface TransportInstance extends PluginInstance {
  listDevices(options?: CallOptions): Promise<GatewayDevice[]>;
  /** Asks the gateway to keep connections to these devices (and reconnect them). */
  connectDevices(devices: { id: number; address: string; port: number; useSSL?: boolean }[], options?: CallOptions): Promise<void>;
  subscribeStatus(options?: { queueSize?: number }): DeviceStream<DeviceStatusChange>;
  /**
   * Lets these device-to-server devices in: adds their IDs to the gateway's accept filter,
   * keeping every entry already there (others' too). Resolves with the IDs it added (none
   * when the filter already allowed them, or allows every device).
   */
  acceptDevices?(deviceIds: readonly number[], options?: CallOptions): Promise<number[]>;
  /** Takes these IDs out of the accept filter, leaving every other entry. */
  unacceptDevices?(deviceIds: readonly number[], options?: CallOptions): Promise<void>;
  /** Stops the gateway's own connection to these devices (DeleteAsyncConnection). */
  forgetDevices?(deviceIds: readonly number[], options?: CallOptions): Promise<void>;
  /** Device-to-server devices waiting for the accept filter. */
  pendingDevices?(options?: CallOptions): Promise<PendingDevice[]>;
  deviceProfile(deviceId: number, options?: CallOptions): Promise<DeviceProfile>;

  listUsers(deviceId: number, options?: CallOptions): Promise<DeviceUserHeader[]>;
  /** How many users the device holds, by a cheap call (not a list): the USERS column after a fan-out. */
  userCount?(deviceId: number, options?: CallOptions): Promise<number>;
  /** Full users; paged by the transport to stay under the message limit. Unknown IDs are absent. */
  getUsers(deviceId: number, ids: readonly string[], options?: CallOptions): Promise<User[]>;
  /** Enroll with overwrite: each user replaces whatever the device holds under its ID. */
  enrollUsers(deviceIds: readonly number[], users: readonly User[], options?: CallOptions): Promise<MultiOutcome>;
  deleteUsers(deviceIds: readonly number[], ids: readonly string[], options?: CallOptions): Promise<MultiOutcome>;

  enableMonitoring(deviceIds: readonly number[], options?: CallOptions): Promise<MultiOutcome>;
  subscribeEvents(options: { deviceIds?: number[]; eventCodes?: number[]; queueSize?: number }): DeviceStream<DeviceEvent>;
  /** Events with id ≥ fromId, oldest first, at most max (0 = all). */
  readEvents(deviceId: number, fromId: number, max: number, options?: CallOptions): Promise<DeviceEvent[]>;

  /** The device's 32-byte hash of a plaintext PIN, base64. The PIN is never logged. */
  hashPin(pin: string, options?: CallOptions): Promise<string>;
  /**
   * The gateway's PIN hash scheme id (daemon/model/pin-provenance.ts): derived from its hash
   * of a fixed probe PIN, cached, asked again after the gateway reconnects.
   */
  pinHashScheme(options?: CallOptions): Promise<string>;
  /** The scheme id last learnt, without a call; undefined before the gateway answered once. */
  readonly knownPinHashScheme?: string;
  /** Bytes one user takes in an Enroll request, for batching under the message limit. */
  encodedSize(user: User): number;
  /** The largest request the gateway accepts. */
  readonly maxMessageBytes: number;
}

export interface WatcherInstance extends PluginInstance {
  /** File name patterns this watcher takes from the drop folder, e.g. ['*.csv']. */
  readonly patterns: string[];
  /** The import format label used in metrics and the ledger, e.g. 'csv'. */
  readonly format: string;
  /**
   * Reads one file (already moved to processing/ by the host) and hands its records to
   * the sink. Throwing refuses the file as a whole (the host moves it to failed/ with the
   * reason); rejected rows go through `sink.reject` and the import goes on.
   */
  ingest(file: IngestFile, sink: IngestSink, signal: AbortSignal): Promise<void>;
  /** How this watcher's records merge into existing users (imports only set what the file has). */
  readonly mergeOptions?: { mode: 'preserve' | 'overwrite'; blankClears: boolean };
  /** Writes every user to `out` in this watcher's format, then ends `out`. */
  exportUsers?(users: AsyncIterable<User>, out: Writable, signal?: AbortSignal): Promise<{ users: number }>;
  /** The file name of an export written at `now`, e.g. rollcall_20261123_101500.tgz. */
  exportName?(now: Date): string;
  /**
   * Whether this watcher's exports hold credential secrets (PIN hashes, templates): the host
   * then writes them 0600, readable by the daemon's user only; otherwise 0640, so the
   * daemon's group can pick them up from outgoing/.
   */
  readonly exportHoldsSecrets?: boolean;
  /**
   * What the drop folder keeps of a handled file, so that no secret (a CSV's plaintext PINs)
   * stays on disk: 'redacted' when this wrote to `to` a copy without them; 'as-dropped' when
   * the file holds none (the host keeps it as dropped); 'withheld' when it may hold some that
   * cannot be taken out (a file that cannot be read): the host keeps only the report.
   */
  redactedCopy?(from: string, to: string): Promise<KeptCopy>;
  /**
   * A check of the file's bytes that rides along the host's read for the content hash (one
   * read for both), e.g. the CSV watcher's encoding check. The host feeds it every chunk in
   * order, then calls `end()`; what `end` returns (or what `push`/`end` threw) is handed to
   * `ingest` as `file.scan`, so the watcher need not read the file for it again.
   */
  scanner?(): ContentScanner;
}

/** See WatcherInstance.scanner. */
export interface ContentScanner {
  push(chunk: Uint8Array): void;
  end(): unknown;
}

/** What a watcher's redactedCopy made of a handled file (see WatcherInstance.redactedCopy). */
export type KeptCopy = 'redacted' | 'as-dropped' | 'withheld';

export interface IngestFile {
  /** Absolute path of the file in processing/. */
  path: string;
  /** The name as dropped. */
  name: string;
  size: number;
  /** The watcher's scanner's outcome over the whole file, when it has one (WatcherInstance.scanner). */
  scan?: { ok: true; value: unknown } | { ok: false; error: unknown };
  /**
   * Where `ingest` may write, in the same pass as it reads the file, the copy the drop
   * folder keeps (what `redactedCopy` would write). It must write it completely and only
   * then rename `${keptCopy}.partial` to this path; the host then moves it into place
   * instead of calling `redactedCopy`. Absent or not written: `redactedCopy` is called.
   */
  keptCopy?: string;
}

/** Fields of a user that an import row set, as the file said them. */
export interface UserPatch {
  id: string;
  /** The fields this row sets, with their new values (blank cells are listed in `blank`). */
  values: Partial<Omit<User, 'id'>>;
  /** Mapped fields whose cell was blank in this row (overwrite clears them only with blankClears). */
  blank: (keyof User)[];
  /** A plaintext PIN to be hashed by the gateway; the host hashes it and drops it at once. */
  pin?: string;
}

export interface IngestRecord {
  /** 1-based row (CSV line of the record's start) or record number, for reports. */
  row: number;
  patch: UserPatch;
  /** The row as it was in the file (cells), for the error CSV if the host rejects it later. */
  raw: string[];
}

export interface IngestRejection {
  row: number;
  raw: string[];
  reason: string;
}

export interface IngestSink {
  /** Records already handled by an interrupted earlier run of this same file: skip them. */
  readonly resumeFrom: number;
  /** The header of the file (CSV) for the error CSV; set once before the first record. */
  setHeader(header: string[]): void;
  /** Merges and commits a batch together with the checkpoint; awaits backpressure. */
  accept(records: IngestRecord[]): Promise<void>;
  /**
   * A row that could not be read or broke a rule. Await what it returns before reading on
   * (the host writes held rejections out); it throws ROLLCALL_ERR_IMPORT_REFUSED when the
   * file has rejected too many rows (`spool.rejects`): let that end the read.
   */
  reject(rejection: IngestRejection): Promise<void> | void;
  /** A remark about the file as a whole for its report (an ignored column, a default taken). */
  note?(message: string): void;
}

export interface KindInstance {
  storage: Store;
  transport: TransportInstance;
  'sync-mode': SyncModeInstance;
  watcher: WatcherInstance;
}
