/**
 * The plugin host (ARCHITECTURE §3, STYLE §2, §4, §5). It builds each plugin's context,
 * creates and starts it within a time limit, and stops the started ones in reverse
 * order, each within a deadline. Every call into a plugin is wrapped: a throw is logged
 * with the plugin's kind and name, the plugin is marked failed, and the host carries on.
 * Whether a failed plugin is fatal is the daemon's decision (the store is; a watcher
 * never is).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Gauge } from 'prom-client';
import { RollcallError, type ErrorCode } from '../errors.js';
import type { Metrics } from '../obs/metrics.js';
import type {
  HealthReport,
  KindInstance,
  PluginContext,
  PluginDefinition,
  PluginInstance,
  PluginKind,
  Store,
} from './api.js';

export type PluginState = 'starting' | 'running' | 'failed' | 'stopping' | 'stopped';

export interface HostedPlugin {
  readonly definition: PluginDefinition;
  readonly id: string;
  state: PluginState;
  instance: PluginInstance | undefined;
  config: unknown;
  /** Why it failed, for /readyz and `rollcall status`. */
  error: string | undefined;
  /** The error it failed with, for a caller that must act on its code (the store's decides the exit code). */
  failure?: unknown;
  readonly controller: AbortController;
}

export interface PluginHostOptions {
  logger: Logger;
  metrics: Metrics;
  /** The daemon's state directory; each plugin gets `<dataDir>/plugins/<kind>/<name>`. */
  dataDir: string;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  /** This instance's name among those sharing a store, given to every plugin (PluginContext.instanceId). */
  instanceId?: string;
}

/** `<dataDir>/plugins/<kind>/<name>`: the directory a plugin gets as `ctx.dataDir`. */
export function pluginDataDir(dataDir: string, definition: Pick<PluginDefinition, 'kind' | 'name'>): string {
  return join(dataDir, 'plugins', definition.kind, definition.name);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Resolves with `work`, or rejects when `ms` pass first. The timer is cleared either way. */
async function within<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class PluginHost {
  readonly #options: PluginHostOptions;
  readonly #plugins: HostedPlugin[] = [];
  #store: Store | undefined;
  #up: Gauge<'kind' | 'name'> | undefined;

  constructor(options: PluginHostOptions) {
    this.#options = options;
  }

  get plugins(): readonly HostedPlugin[] {
    return this.#plugins;
  }

  #gauge(): Gauge<'kind' | 'name'> {
    this.#up ??= this.#options.metrics.gauge({
      name: 'rollcall_plugin_up',
      help: '1 when the plugin is running, 0 when it failed or stopped.',
      labelNames: ['kind', 'name'],
    });
    return this.#up;
  }

  #context(plugin: HostedPlugin, dataDir: string): PluginContext {
    const { definition } = plugin;
    return {
      logger: this.#options.logger.child({ plugin: plugin.id }),
      metrics: this.#options.metrics,
      signal: plugin.controller.signal,
      dataDir,
      store: definition.kind === 'storage' ? undefined : this.#store,
      lookup: <K extends PluginKind>(kind: K, name?: string) => this.lookup(kind, name),
      ...(this.#options.instanceId === undefined ? {} : { instanceId: this.#options.instanceId }),
    };
  }

  /** A running plugin instance of `kind` (and `name`, when given). */
  lookup<K extends PluginKind>(kind: K, name?: string): KindInstance[K] | undefined {
    const found = this.#plugins.find(
      (p) => p.definition.kind === kind && (name === undefined || p.definition.name === name) && p.state === 'running',
    );
    return found?.instance as KindInstance[K] | undefined;
  }

  #fail(plugin: HostedPlugin, stage: string, error: unknown): void {
    plugin.state = 'failed';
    plugin.error = `${stage}: ${message(error)}`;
    plugin.failure = error;
    this.#gauge().set({ kind: plugin.definition.kind, name: plugin.definition.name }, 0);
    // The line carries the code an operator greps for; the plugin's own error, with its code when it has one, is in err.
    const code: ErrorCode = 'ROLLCALL_ERR_PLUGIN_FAILED';
    this.#options.logger.error(
      { plugin: plugin.id, kind: plugin.definition.kind, name: plugin.definition.name, code, err: error },
      `plugin ${plugin.id} failed in ${stage}: ${message(error)}`,
    );
  }

  /**
   * Creates and starts one plugin. Returns the running instance, or undefined when the
   * plugin failed (already logged and marked).
   */
  async start<I extends PluginInstance>(definition: PluginDefinition<unknown, I>, config: unknown): Promise<I | undefined> {
    const id = `${definition.kind}/${definition.name}`;
    const plugin: HostedPlugin = {
      definition: definition as PluginDefinition,
      id,
      state: 'starting',
      instance: undefined,
      config,
      error: undefined,
      controller: new AbortController(),
    };
    this.#plugins.push(plugin);
    const labels = { kind: definition.kind, name: definition.name };
    this.#gauge().set(labels, 0);

    const dataDir = pluginDataDir(this.#options.dataDir, definition);
    try {
      await mkdir(dataDir, { recursive: true });
      plugin.instance = definition.create(this.#context(plugin, dataDir), config);
    } catch (error) {
      this.#fail(plugin, 'create', error);
      return undefined;
    }
    if (definition.kind === 'storage') this.#store = plugin.instance as unknown as Store;

    const instance = plugin.instance;
    try {
      if (instance.start) {
        const ms = this.#options.startTimeoutMs;
        await within(instance.start(plugin.controller.signal), ms, () => {
          plugin.controller.abort(new Error(`start took longer than ${ms} ms`));
          return new RollcallError('ROLLCALL_ERR_PLUGIN_START_TIMEOUT', `plugin ${id} did not start within ${ms} ms`);
        });
      }
    } catch (error) {
      this.#fail(plugin, 'start', error);
      // A plugin that half-started may hold resources: give it its stop.
      await this.#stopOne(plugin).catch(() => undefined);
      plugin.state = 'failed';
      return undefined;
    }
    plugin.state = 'running';
    this.#gauge().set(labels, 1);
    this.#options.logger.debug({ plugin: id }, `plugin ${id} started`);
    return instance as I;
  }

  async #stopOne(plugin: HostedPlugin): Promise<void> {
    const instance = plugin.instance;
    plugin.state = 'stopping';
    plugin.controller.abort(new Error('stopping'));
    if (instance?.stop) {
      const ms = this.#options.stopTimeoutMs;
      await within(instance.stop(), ms, () => new Error(`stop took longer than ${ms} ms`));
    }
    plugin.state = 'stopped';
  }

  /** Stops one running plugin (a sync mode replaced on reload) and forgets it. */
  async stopInstance(instance: PluginInstance): Promise<void> {
    const index = this.#plugins.findIndex((p) => p.instance === instance);
    if (index < 0) return;
    const plugin = this.#plugins[index]!;
    try {
      await this.#stopOne(plugin);
    } catch (error) {
      this.#options.logger.error({ plugin: plugin.id, err: error }, `plugin ${plugin.id} did not stop cleanly: ${message(error)}`);
    }
    this.#plugins.splice(index, 1);
    if (!this.#plugins.some((p) => p.id === plugin.id)) this.#gauge().set({ kind: plugin.definition.kind, name: plugin.definition.name }, 0);
  }

  /** Stops every plugin in reverse start order; storage plugins go last whatever their order. */
  async stopAll(): Promise<void> {
    const order = [...this.#plugins].reverse();
    const storage = order.filter((p) => p.definition.kind === 'storage');
    const rest = order.filter((p) => p.definition.kind !== 'storage');
    for (const plugin of [...rest, ...storage]) {
      if (plugin.state === 'stopped') continue;
      const wasFailed = plugin.state === 'failed';
      try {
        await this.#stopOne(plugin);
      } catch (error) {
        this.#options.logger.error({ plugin: plugin.id, err: error }, `plugin ${plugin.id} did not stop cleanly: ${message(error)}`);
        plugin.state = 'stopped';
      }
      if (wasFailed) plugin.state = 'failed';
      this.#gauge().set({ kind: plugin.definition.kind, name: plugin.definition.name }, 0);
    }
  }

  /** Passes a new config to running plugins that can take it live. */
  async reload(configOf: (definition: PluginDefinition) => unknown): Promise<void> {
    for (const plugin of this.#plugins) {
      if (plugin.state !== 'running' || !plugin.instance?.reload) continue;
      const config = configOf(plugin.definition);
      try {
        await plugin.instance.reload(config);
        plugin.config = config;
      } catch (error) {
        this.#options.logger.error({ plugin: plugin.id, err: error }, `plugin ${plugin.id} could not apply the new config: ${message(error)}`);
      }
    }
  }

  health(plugin: HostedPlugin): HealthReport {
    if (plugin.state !== 'running') return { ok: false, detail: plugin.error ?? plugin.state };
    try {
      return plugin.instance?.health?.() ?? { ok: true };
    } catch (error) {
      return { ok: false, detail: `health check threw: ${message(error)}` };
    }
  }

  /** Per-plugin readiness for /readyz. */
  checks(): Record<string, HealthReport> {
    const out: Record<string, HealthReport> = {};
    for (const plugin of this.#plugins) out[plugin.id] = this.health(plugin);
    return out;
  }
}
