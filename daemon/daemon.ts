/**
 * The daemon's lifecycle: starting → running → reloading → stopping → stopped
 * (ARCHITECTURE §7, STYLE §5). It owns the order of things and nothing plugin-specific:
 * observability first (so /healthz answers during a slow start), then the store, the
 * transport, the sync mode and the watchers; on stop the reverse, the store last, within
 * a deadline.
 *
 * A stop can come at any moment of the start: the stop aborts the start's signal, waits
 * (for part of its deadline) for the start to reach a check, then stops whatever had
 * started. A component whose start was still under way is stopped by the start itself when
 * that start returns (a second teardown), so nothing begins after the stop and stays.
 *
 * Why one file of about 485 lines: start, stop, teardown and reload read and set the same
 * few fields (the state, the host, the engine, the drop folder, the admin server), and the
 * stop-at-any-moment guarantee lives in the order of those assignments and checks; split
 * across files it could no longer be read in one place. What is not lifecycle lives apart:
 * seeding an empty database (seed-users.ts) and what a reload applies (config/diff.ts).
 */
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { RollcallError, isRollcallError } from './errors.js';
import { Metrics } from './obs/metrics.js';
import { ObservabilityServer } from './obs/http.js';
import type { SystemdNotifier } from './obs/sdnotify.js';
import { setLogLevel } from './obs/logger.js';
import { PluginHost } from './plugins/host.js';
import type { PluginDefinition, PluginKind, Store, SyncModeInstance, WatcherInstance } from './plugins/api.js';
import { seedUsers } from './seed-users.js';
import { buildConfigSchema, configKeyOf, type RollcallConfig } from './config/schema.js';
import { readConfig, validateConfig, type LoadedConfig } from './config/load.js';
import { planReload, type ConfigChange } from './config/diff.js';
import { clusterSettings } from './cluster/instance-id.js';
import { SyncEngine } from './sync/engine.js';
import { ImportHold } from './sync/import-hold.js';
import { AdminServer } from './admin/server.js';
import { adminSocketPath } from './admin/socket-path.js';
import { packageVersion, pluginReadiness } from './admin/daemon-info.js';
import { join } from 'node:path';
import { DropFolder } from './ingest/drop-folder.js';
import { exportTriggersFrom } from './ingest/export-triggers.js';
import { PinHashAudit, hashPinWithScheme } from './pin-hash-audit.js';

export type DaemonState = 'created' | 'starting' | 'running' | 'reloading' | 'stopping' | 'stopped';

export interface DaemonOptions {
  loaded: LoadedConfig;
  /** Every known plugin definition: the built-ins plus loaded third-party ones. */
  definitions: readonly PluginDefinition[];
  logger: Logger;
  notifier: SystemdNotifier;
  /** Where the config came from, to read it again on reload. */
  configPath?: string;
  cwd?: string;
  metrics?: Metrics;
  /**
   * An error found after start that the daemon cannot run with (a master gateway behind an
   * address that was unreachable at start): the caller stops the daemon with its exit code.
   */
  onFatal?: (error: Error) => void;
}

/** The value at a dotted config key. */
export function configAt(config: RollcallConfig, key: string): unknown {
  let node: unknown = config;
  for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

/** How long a status or the start report waits for the gateway's PIN hash scheme. */
const PIN_SCHEME_DEADLINE_MS = 3000;

export class Daemon {
  readonly #options: DaemonOptions;
  readonly metrics: Metrics;
  #loaded: LoadedConfig;
  #state: DaemonState = 'created';
  #host: PluginHost | undefined;
  #http: ObservabilityServer | undefined;
  #stopping: Promise<void> | undefined;
  /** The start under way or done; a stop waits for it to reach a check. */
  #starting: Promise<void> | undefined;
  /** Set once the stop has torn down what was running: a start that returns later tears down again. */
  #tornDown = false;
  #engine: SyncEngine | undefined;
  #admin: AdminServer | undefined;
  #dropFolder: DropFolder | undefined;
  #pinHashes: PinHashAudit | undefined;
  #pinHashesStarted: Promise<void> | undefined;
  readonly #startedAt = Date.now();
  readonly #controller = new AbortController();

  constructor(options: DaemonOptions) {
    this.#options = options;
    this.#loaded = options.loaded;
    this.metrics = options.metrics ?? new Metrics();
  }

  get state(): DaemonState {
    return this.#state;
  }

  get config(): RollcallConfig {
    return this.#loaded.config;
  }

  get store(): Store | undefined {
    return this.#host?.lookup('storage');
  }

  get engine(): SyncEngine | undefined {
    return this.#engine;
  }

  /** Users whose PIN hash came from another gateway (pin-hash-audit.ts); set once the store is open. */
  get pinHashes(): PinHashAudit | undefined {
    return this.#pinHashes;
  }

  get dropFolder(): DropFolder | undefined {
    return this.#dropFolder;
  }

  /** The running watchers with their config sections. */
  #watchers(): { instance: WatcherInstance; config: unknown }[] {
    return this.config.watchers.enabled.flatMap((name) => {
      const instance = this.#host?.lookup('watcher', name);
      return instance ? [{ instance, config: configAt(this.config, `watchers.${name}`) }] : [];
    });
  }

  #definition(kind: PluginKind, name: string): PluginDefinition {
    const found = this.#options.definitions.find((d) => d.kind === kind && d.name === name);
    if (!found) {
      const known = this.#options.definitions.filter((d) => d.kind === kind).map((d) => d.name);
      throw new RollcallError('ROLLCALL_ERR_PLUGIN_NOT_FOUND', `no ${kind} plugin named ${name} (known: ${known.join(', ') || 'none'})`);
    }
    return found;
  }

  #pluginConfig(definition: PluginDefinition): unknown {
    return configAt(this.config, configKeyOf(definition));
  }

  /** Readiness for /readyz: every plugin healthy and the daemon running. */
  readiness(): { ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> } {
    const checks: Record<string, { ok: boolean; detail?: string }> = {
      daemon: this.#state === 'running' ? { ok: true } : { ok: false, detail: this.#state },
      ...(this.#host?.checks() ?? {}),
    };
    if (this.#state === 'running') checks.sync = this.#engine ? { ok: true } : { ok: false, detail: 'not running: the transport or the sync mode failed' };
    if (this.#dropFolder) checks['drop-folder'] = this.#dropFolder.health();
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }

  #throwIfStopping(): void {
    if (this.#controller.signal.aborted) {
      throw new RollcallError('ROLLCALL_ERR_PLUGIN_FAILED', 'start interrupted by a stop');
    }
  }

  start(): Promise<void> {
    if (this.#state !== 'created') return Promise.reject(new Error(`cannot start a daemon that is ${this.#state}`));
    this.#state = 'starting';
    this.#starting = this.#start().finally(async () => {
      // Components that finished starting after the stop's teardown: stop them too.
      if (this.#tornDown) await this.#teardown();
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const { logger, notifier } = this.#options;
    const config = this.config;
    notifier.status('starting');
    // Private: it holds the store (PIN hashes, templates). Under systemd StateDirectoryMode does the same.
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });

    this.metrics.collectProcessMetrics();
    this.#http = new ObservabilityServer({
      listen: config.http.listen,
      metrics: this.metrics,
      readiness: () => this.readiness(),
      logger,
    });
    await this.#http.start(this.#controller.signal);
    this.#throwIfStopping();
    logger.info({ listen: config.http.listen }, 'metrics and health endpoints listening');

    // The admin socket before the store: a second daemon fails here with a clear error
    // rather than on the store's lock, and `rollcall status` answers during a slow start.
    this.#admin = new AdminServer({
      socketPath: adminSocketPath({ configured: config.admin.socket, baseDir: this.#loaded.baseDir }),
      maxMessageBytes: config.admin.maxMessageBytes,
      maxUploadBytes: config.admin.maxUploadBytes,
      access: { readersGroup: config.admin.readersGroup, operatorsGroup: config.admin.operatorsGroup },
      logger: logger.child({ component: 'admin' }),
      metrics: this.metrics,
      backend: this.#adminBackend(),
    });
    await this.#admin.start(this.#controller.signal);
    this.#throwIfStopping();

    const instance = clusterSettings(config.cluster, config.dataDir);
    const host = new PluginHost({
      logger,
      metrics: this.metrics,
      dataDir: config.dataDir,
      instanceId: instance.instanceId,
      startTimeoutMs: config.plugins.startTimeoutMs,
      stopTimeoutMs: config.plugins.stopTimeoutMs,
    });
    this.#host = host;
    this.#throwIfStopping();

    const storage = this.#definition('storage', config.storage.backend);
    const store = (await host.start(storage, this.#pluginConfig(storage))) as Store | undefined;
    if (!store) {
      // The store's own error, when it has a code, decides how the daemon exits (a damaged store is not restarted into a loop).
      const failure = host.plugins.find((p) => p.definition === storage)?.failure;
      if (isRollcallError(failure) && failure.code.startsWith('ROLLCALL_ERR_STORE_')) throw failure;
      throw new RollcallError('ROLLCALL_ERR_PLUGIN_FAILED', `the store (storage/${storage.name}) could not be opened; see the error above`);
    }
    await seedUsers(store, config.seed.users, logger);
    this.#throwIfStopping();

    // A transport or watcher that fails is reported and marked; the daemon goes on
    // (readiness says what is missing) so the operator can see and fix it live.
    const ordered: PluginDefinition[] = [
      this.#definition('transport', config.transport.use),
      this.#definition('sync-mode', config.sync.mode),
      ...config.watchers.enabled.map((name) => this.#definition('watcher', name)),
    ];
    for (const definition of ordered) {
      this.#throwIfStopping();
      await host.start(definition, this.#pluginConfig(definition));
    }
    this.#throwIfStopping();

    const transport = host.lookup('transport');
    const mode = host.lookup('sync-mode');
    const importHold = new ImportHold({ maxMs: () => this.config.sync.importHoldMs ?? 0 });
    if (transport && mode) {
      const engine = new SyncEngine({
        store,
        transport,
        mode,
        config: config.sync,
        devices: config.devices,
        logger: logger.child({ component: 'sync' }),
        metrics: this.metrics,
        cluster: instance,
        importHold,
        ...(this.#options.onFatal ? { onGatewayUnsupported: this.#options.onFatal } : {}),
      });
      // Assigned first: a stop that comes during engine.start() stops it.
      this.#engine = engine;
      await engine.start(this.#controller.signal);
    } else {
      logger.error('no sync: the transport or the sync mode failed to start (see above); the store and the rest run on');
    }
    this.#throwIfStopping();

    // The drop folder: every running watcher's files, the store, PINs hashed by the transport.
    const watchers = this.#watchers();
    if (watchers.length > 0) {
      const folder = new DropFolder({
        spoolDir: config.spool.dir,
        store,
        watchers: watchers.map((w) => w.instance),
        hashPin: (pin, options) => {
          const transport = host.lookup('transport');
          return transport
            ? hashPinWithScheme(transport, pin, options)
            : Promise.reject(new RollcallError('ROLLCALL_ERR_GATEWAY_UNAVAILABLE', 'no transport is running to hash PINs'));
        },
        pinHashScheme: (options) => {
          const transport = host.lookup('transport');
          return transport ? transport.pinHashScheme(options) : Promise.reject(new RollcallError('ROLLCALL_ERR_GATEWAY_UNAVAILABLE', 'no transport is running'));
        },
        logger: logger.child({ component: 'drop-folder' }),
        metrics: this.metrics,
        siteAlphanumericIds: () => this.config.site.alphanumericIds,
        stableMs: config.spool.stableMs,
        rejectLimits: config.spool.rejects,
        pinRetry: config.spool.pinRetry,
        stopTimeoutMs: config.plugins.stopTimeoutMs,
        instanceId: instance.instanceId,
        exports: exportTriggersFrom(watchers.map((w) => ({ format: w.instance.format, config: w.config }))),
        onProgress: () => importHold.committed(),
        onImportEnd: () => importHold.ended(),
      });
      this.#throwIfStopping();
      try {
        this.#dropFolder = folder;
        await folder.start(this.#controller.signal);
      } catch (error) {
        this.#dropFolder = undefined;
        await folder.stop().catch(() => undefined);
        this.#throwIfStopping();
        logger.error({ err: error }, `the drop folder could not start (${(error as Error).message}); imports and exports are off`);
      }
    }
    this.#throwIfStopping();

    // Users whose PIN hash another gateway made: counted (status, gauge) and logged once the gateway answers.
    const pinHashes = new PinHashAudit({
      store: () => store,
      scheme: async () => {
        const live = host.lookup('transport');
        return live ? (live.knownPinHashScheme ?? (await live.pinHashScheme({ signal: this.#controller.signal, deadlineMs: PIN_SCHEME_DEADLINE_MS }))) : undefined;
      },
      logger,
      metrics: this.metrics,
    });
    this.#pinHashes = pinHashes;
    this.#pinHashesStarted = pinHashes.start(this.#controller.signal).catch((error: unknown) => {
      if (!this.#controller.signal.aborted) logger.warn({ err: error }, `the PIN hashes from other gateways could not be counted (${(error as Error).message})`);
    });

    this.#state = 'running';
    const failed = host.plugins.filter((p) => p.state === 'failed').map((p) => p.id);
    const users = await store.countUsers().catch(() => undefined);
    notifier.ready(failed.length ? `running; failed plugins: ${failed.join(', ')}` : `running; ${users ?? '?'} users`);
    notifier.startWatchdog(this.#controller.signal);
    logger.info({ users, failed }, 'rollcall is running');
  }

  /**
   * Stops within the configured deadline. Idempotent: a second call (a second signal)
   * returns the stop already under way and starts nothing new.
   */
  stop(reason: string): Promise<void> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  async #stop(reason: string): Promise<void> {
    const { logger, notifier } = this.#options;
    const previous = this.#state;
    this.#state = 'stopping';
    notifier.stopping();
    logger.info({ reason, from: previous }, 'stopping');
    this.#controller.abort(new Error(`stopping: ${reason}`));
    try {
      await this.#startSettled();
      await this.#teardown();
    } finally {
      this.#tornDown = true;
      this.#state = 'stopped';
      logger.info('stopped');
    }
  }

  /**
   * Waits for an interrupted start to reach its next check, for at most half the shutdown
   * deadline: a plugin start that ignores its signal must not take the whole deadline.
   */
  async #startSettled(): Promise<void> {
    const starting = this.#starting;
    if (!starting) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.config.shutdown.timeoutMs / 2);
    });
    await Promise.race([starting.catch(() => undefined), late]);
    clearTimeout(timer);
  }

  /**
   * Stops what runs, in order, and forgets it; a second call stops only what started since.
   * The admin API and the sync engine first (in-flight batches finish, each call has a
   * deadline, and commit what devices acknowledged); the drop folder before the plugins
   * (the file in progress needs the watchers and the store to checkpoint); the plugins, the
   * store last; the metrics server at the very end.
   */
  async #teardown(): Promise<void> {
    const { logger } = this.#options;
    const [admin, engine, folder, http] = [this.#admin, this.#engine, this.#dropFolder, this.#http];
    try {
      await admin?.stop().catch((error: unknown) => logger.warn({ err: error }, 'admin API did not close cleanly'));
      await engine?.stop().catch((error: unknown) => logger.warn({ err: error }, 'sync engine did not stop cleanly'));
      await folder?.stop().catch((error: unknown) => logger.warn({ err: error }, 'drop folder did not stop cleanly'));
      await this.#pinHashesStarted;
      await this.#host?.stopAll();
    } finally {
      await http?.stop().catch((error: unknown) => logger.warn({ err: error }, 'metrics server did not close cleanly'));
    }
  }

  /** What the admin API sees of the daemon. */
  #adminBackend(): ConstructorParameters<typeof AdminServer>[0]['backend'] {
    const daemon = this;
    const logger = this.#options.logger;
    return {
      daemonInfo: () => ({
        state: this.#state,
        version: packageVersion(),
        pid: process.pid,
        startedAt: this.#startedAt,
        ...(this.#loaded.filepath ? { configFile: this.#loaded.filepath } : {}),
        plugins: pluginReadiness(this.#host),
        ready: this.readiness().ready,
      }),
      get store() {
        return daemon.store;
      },
      get engine() {
        return daemon.engine;
      },
      get dropFolder() {
        return daemon.dropFolder;
      },
      stagingDir: join(this.config.dataDir, 'admin'),
      logLevel: () => logger.level,
      setLogLevel: (level) => setLogLevel(logger, level),
      hashPin: async (pin) => {
        const transport = this.#host?.lookup('transport');
        if (!transport) throw new RollcallError('ROLLCALL_ERR_GATEWAY_UNAVAILABLE', 'the transport is not running: no PIN can be hashed');
        return hashPinWithScheme(transport, pin);
      },
      get pinHashes() {
        return daemon.pinHashes;
      },
    };
  }

  /** Starts the new sync-mode plugin, hands it to the engine (which plans every device again), stops the old one. */
  async #switchMode(name: string): Promise<void> {
    const host = this.#host!;
    const old = host.lookup('sync-mode');
    const definition = this.#definition('sync-mode', name);
    const mode = await host.start(definition, this.#pluginConfig(definition));
    if (!mode) {
      this.#options.logger.error({ mode: name }, `sync mode ${name} failed to start; keeping the previous mode`);
      return;
    }
    this.#engine!.setMode(mode as SyncModeInstance);
    if (old) await host.stopInstance(old);
    this.#options.logger.info({ mode: name }, `sync mode is now ${name}; checking every device`);
  }

  /**
   * Reads the config again. Invalid: everything stays as it was and the problems are
   * logged. Valid: live keys are applied, keys that need a restart are logged by path.
   */
  async reload(): Promise<ConfigChange[]> {
    if (this.#state !== 'running') {
      this.#options.logger.warn({ state: this.#state }, 'reload ignored: the daemon is not running');
      return [];
    }
    const { logger, notifier } = this.#options;
    this.#state = 'reloading';
    notifier.reloading();
    try {
      const source = await readConfig({ configPath: this.#options.configPath, cwd: this.#options.cwd });
      const result = validateConfig(source, this.#options.definitions);
      if (!result.ok) {
        logger.error({ issues: result.issues }, `reload refused, the new config has ${result.issues.length} problem(s); keeping the running config`);
        return [];
      }
      const { changes, live, needRestart, next } = planReload(buildConfigSchema(this.#options.definitions), this.config, result.config);
      for (const change of needRestart) {
        logger.warn({ key: change.path }, `config key ${change.path} changed but needs a restart to apply`);
      }
      this.#loaded = { ...source, config: next };

      setLogLevel(logger, next.log.level);
      await this.#host?.reload((definition) => this.#pluginConfig(definition));
      this.#dropFolder?.setExportTriggers(exportTriggersFrom(this.#watchers().map((w) => ({ format: w.instance.format, config: w.config }))));
      if (this.#engine) {
        if (live.some((c) => c.path === 'sync.mode')) await this.#switchMode(next.sync.mode);
        await this.#engine.reconfigure(next.sync, next.devices);
      }
      logger.info({ applied: live.map((c) => c.path), needRestart: needRestart.map((c) => c.path) }, 'config reloaded');
      return changes;
    } catch (error) {
      logger.error({ err: error }, 'reload failed; keeping the running config');
      return [];
    } finally {
      if (this.#state === 'reloading') this.#state = 'running';
      notifier.ready('running');
    }
  }
}
