/**
 * The core config schema, and its composition with every plugin's schema (STYLE §6).
 *
 * The core is a tree whose leaves are zod schemas; each plugin's schema is grafted in at
 * its config key (`storage.level`, `gateway`, `watchers.csv`, ...), then the tree becomes
 * nested strict objects. Every key carries a description, and `.meta({ requiresRestart:
 * true })` marks the keys a SIGHUP cannot apply.
 *
 * Just over 400 lines because the core tree is one declaration: the keys of every section
 * with their defaults and descriptions (the README's config reference is generated from it),
 * which reads best whole; the composition below is short.
 */
import { z } from 'zod';
import type { PinRetryPolicy } from '../ingest/pin-hashing.js';
import type { RejectLimits } from '../ingest/reject-limits.js';
import type { PluginDefinition, PluginKind } from '../plugins/api.js';
import { TEMPLATE_FORMAT_NAMES, type TemplateFormatName } from '../model/template-format.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A node of the config tree: a leaf schema or a group of keys. */
export type ConfigTree = { [key: string]: z.ZodType | ConfigTree };

const restart = { requiresRestart: true } as const;

/** The admin socket's largest request unless `admin.maxMessageBytes` says otherwise. */
export const DEFAULT_ADMIN_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** The largest upload of `rollcall import` unless `admin.maxUploadBytes` says otherwise. */
export const DEFAULT_ADMIN_MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;

/** The `admin` section: the admin API's socket (daemon/admin/socket-path.ts decides its default path). */
export function adminConfigTree(): ConfigTree {
  return {
    socket: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Path of the admin API\'s unix socket (mode 0660, group admin.readersGroup: only its members, root and the daemon\'s user can connect). Default: $RUNTIME_DIRECTORY/rollcall.sock under systemd (RuntimeDirectory=rollcall), else ./var/run/rollcall.sock. Relative paths are read from the config file\'s directory.',
      )
      .meta({ ...restart, path: true }),
    maxMessageBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(256 * 1024 * 1024)
      .default(DEFAULT_ADMIN_MAX_MESSAGE_BYTES)
      .describe('Largest admin request the daemon accepts; a larger one is refused (RESOURCE_EXHAUSTED). Uploads are sent in small chunks, so this only bounds single requests (users set).')
      .meta(restart),
    maxUploadBytes: z
      .number()
      .int()
      .min(1024)
      .default(DEFAULT_ADMIN_MAX_UPLOAD_BYTES)
      .describe('Largest file `rollcall import` may upload (1 GiB by default); a larger upload is refused with this limit named, and what was received is removed.')
      .meta(restart),
    readersGroup: z
      .string()
      .min(1)
      .default('rollcall')
      .describe('Unix group whose members may use the read-only admin commands (status, devices, verify, plan, users list/show, events). The socket is given to this group (mode 0660). Callers are known by their uid from the kernel (SO_PEERCRED), not by what the client says.')
      .meta(restart),
    operatorsGroup: z
      .string()
      .min(1)
      .default('rollcall-admin')
      .describe('Unix group whose members may also use the admin commands that change something (sync, confirm, users set/delete, import, export, log-level). Root and the daemon\'s own user always may. Operators must be in readersGroup too, to reach the socket.')
      .meta(restart),
  };
}

/**
 * Several instances on one shared store (issue 16): each device under one instance's lease.
 * A lease of an instance that stops renewing expires `leaseTtlMs` after its last renewal,
 * and the others look for expired leases every `renewIntervalMs`: so its devices are
 * served again within leaseTtlMs + renewIntervalMs (25 s at most, checked here), plus the
 * time the database takes to end a transaction the lost instance left open (PostgreSQL:
 * storage.postgres.idleInTransactionTimeoutMs, 5 s): 30 s in all.
 */
function clusterSchema(): z.ZodType {
  return z
    .strictObject({
      instanceId: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'letters, digits and . _ : - (at most 128)')
        .optional()
        .describe('This instance\'s name among those sharing the store. Default: the host name and a hash of `dataDir` (`<host>-<8 hex>`), stable across restarts and different for two instances on one host with their own state directories. Two running instances must never share one.')
        .meta(restart),
      leaseTtlMs: z.number().int().min(1000).max(24_000).default(15_000).describe('How long a device lease (and the instance heartbeat) lasts without renewal, in the store\'s clock.').meta(restart),
      renewIntervalMs: z
        .number()
        .int()
        .min(200)
        .max(12_000)
        .default(5_000)
        .describe('How often leases are renewed and the fleet is balanced (expired leases taken over, a fair share kept). At most half of `leaseTtlMs`.')
        .meta(restart),
    })
    .superRefine((value, ctx) => {
      if (value.renewIntervalMs * 2 > value.leaseTtlMs) ctx.addIssue({ code: 'custom', path: ['renewIntervalMs'], message: 'must be at most half of leaseTtlMs (a lease is renewed at least twice before it runs out)' });
      if (value.leaseTtlMs + value.renewIntervalMs > 25_000) {
        ctx.addIssue({ code: 'custom', path: ['leaseTtlMs'], message: 'leaseTtlMs + renewIntervalMs must be at most 25000 (devices of a lost instance are served again within 30 s; the last 5 s are for the server to end a transaction it left open, storage.postgres.idleInTransactionTimeoutMs)' });
      }
    })
    .prefault({})
    .describe('Several rollcall instances sharing one store (PostgreSQL). A store one process opens (level, memory) holds every lease itself.');
}

function coreTree(): ConfigTree {
  return {
    dataDir: z
      .string()
      .min(1)
      .default('./var/lib/rollcall')
      .describe('State directory: the store and each plugin\'s data live under it. Relative paths are read from the config file\'s directory.')
      .meta({ ...restart, path: true }),
    log: {
      level: z.enum(LOG_LEVELS).default('info').describe('Log level (pino). Changes on reload and through `rollcall log-level`.'),
    },
    admin: adminConfigTree(),
    http: {
      listen: z
        .string()
        .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:9464')
        .default('127.0.0.1:9464')
        .describe('Address of /metrics, /healthz and /readyz. Loopback by default; set 0.0.0.0:9464 to let a remote Prometheus scrape.')
        .meta(restart),
    },
    shutdown: {
      timeoutMs: z
        .number()
        .int()
        .min(1000)
        .max(600_000)
        .default(10_000)
        .describe('How long a graceful stop may take before the process exits anyway.'),
    },
    plugins: {
      packages: z
        .array(z.string().regex(/^(@[a-z0-9._~-]+\/)?rollcall-plugin-[a-z0-9._~-]+$/, 'third-party plugins are npm packages named rollcall-plugin-*'))
        .default([])
        .describe('Third-party plugin packages to load from node_modules (named rollcall-plugin-*).')
        .meta(restart),
      startTimeoutMs: z.number().int().min(100).default(30_000).describe('How long a plugin\'s start() may take.'),
      stopTimeoutMs: z.number().int().min(100).default(5_000).describe('How long a plugin\'s stop() may take.'),
    },
    storage: {
      backend: z.string().min(1).default('level').describe('The storage plugin: level (default), postgres (a PostgreSQL server), or memory (tests, --dry-run).').meta(restart),
    },
    transport: {
      use: z.string().min(1).default('gsdk').describe('The transport plugin that reaches the devices. gsdk (the G-SDK device gateway) is built in; its config is the `gateway` key.').meta(restart),
    },
    sync: {
      mode: z
        .string()
        .min(1)
        .default('all-devices-with-device-updates')
        .describe('The sync-mode plugin: manual, all-devices, all-devices-with-device-updates or access-group-devices. A change on reload plans every device again (a check of each).'),
      mergePolicy: z
        .enum(['fill-vacant', 'device-wins', 'server-wins'])
        .default('fill-vacant')
        .describe('How a user enrolled or edited at a device merges into the database: fill-vacant (BioStar\'s rule: a new user is taken whole, an existing one only gets empty fields filled and new credentials added), device-wins or server-wins. Every losing value is logged as a conflict.'),
      deviceDeletes: z
        .enum(['restore', 'keep-deleted'])
        .default('restore')
        .describe('A user deleted at a device is never deleted from the database. restore: the next reconcile puts the user back on that device; keep-deleted: the device keeps it deleted until the user changes.'),
      templateFormat: z
        .enum(TEMPLATE_FORMAT_NAMES)
        .default('SUPREMA')
        .describe('The fingerprint template format of the site\'s templates (BioStar\'s system setting; SUPREMA is its default). A device configured for another format (its Finger.GetConfig) gets users without their fingerprints, left off with reason template-format (plan, verify, users show, rollcall_device_left_off_credentials): templates of another format would not match at that device.'),
      batch: {
        maxUsers: z.number().int().min(1).max(10_000).default(500).describe('Most users in one Enroll/Delete call.'),
        maxBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(3 * 1024 * 1024)
          .describe('Most bytes of users in one Enroll call; kept below the gateway\'s message limit (4 MiB by default).'),
      },
      concurrency: z.number().int().min(1).max(256).default(8).describe('Most gateway calls the sync engine has under way at once.'),
      importHoldMs: z
        .number()
        .int()
        .min(0)
        .default(120_000)
        .describe('While a file is being imported the devices get its users once it is done, in full batches (faster, for the import and the devices both), but never later than this long after the import began; 0 = fan out while importing.'),
      backoff: {
        baseMs: z.number().int().min(10).default(1000).describe('First retry delay of a failing device.'),
        factor: z.number().min(1).default(1.6).describe('Each further retry waits this much longer.'),
        maxMs: z.number().int().min(10).default(120_000).describe('Longest retry delay.'),
      },
      quarantine: {
        after: z.number().int().min(1).default(8).describe('Consecutive failures after which a device is quarantined (an event and rollcall_device_quarantined).'),
        retryMs: z.number().int().min(100).default(300_000).describe('How often a quarantined device is tried again.'),
      },
      reconcile: {
        onConnect: z.boolean().default(true).describe('Check (and repair) a device each time it connects.'),
        intervalMs: z.number().int().min(0).default(3_600_000).describe('Cheap check of every device (user IDs and credential counts) this often; 0 = never on a schedule.'),
        deepIntervalMs: z.number().int().min(0).default(86_400_000).describe('Deep check (full user content) of every device this often; 0 = never on a schedule.'),
        pageSize: z.number().int().min(1).max(5000).default(500).describe('Users read per Get call in a deep check.'),
      },
      massRemoval: {
        share: z.number().min(0).max(1).default(0.1).describe('A plan that would remove more than this share of a device\'s users waits for an operator\'s confirmation (rollcall confirm).'),
        minimum: z.number().int().min(0).default(10).describe('...unless it removes no more than this many users.'),
      },
      tombstoneRetentionDays: z.number().int().min(1).default(30).describe('How long deletes are kept in the change feed. A device away longer gets a full reconcile.'),
      deviceEvents: {
        readAttempts: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(8)
          .describe('Tries to read back the user of one device-side event (User.Get failing, other than not found) before the event is skipped, logged (device.event.skipped) and left to a check of the device; meanwhile that device\'s later events wait. A device that is not connected does not use up tries.'),
        retryBaseMs: z.number().int().min(10).default(1000).describe('First delay before such a read (or turning on a device\'s event monitoring) is tried again.'),
        retryMaxMs: z.number().int().min(10).default(60_000).describe('Longest delay between those tries (each waits 1.6 times longer, up to this).'),
      },
      discoverDevices: z.boolean().default(true).describe('Also sync devices the gateway knows that are not in `devices`.'),
    },
    cluster: clusterSchema(),
    devices: z
      .array(
        z
          .strictObject({
          id: z.number().int().min(1).max(0xffff_ffff).describe('G-SDK device ID.'),
          name: z.string().optional().describe('A name for logs and the CLI.'),
          address: z
            .string()
            .refine(isDeviceIpv4, { message: 'expected the device\'s IPv4 address, e.g. 192.168.0.20 (the gateway takes no host names)' })
            .optional()
            .describe('The device\'s IPv4 address (the gateway takes no host names); with it the gateway dials the device and keeps the connection (AddAsyncConnection).'),
          connection: z
            .enum(['dial', 'accept'])
            .optional()
            .describe('How the device and the gateway connect. dial (the default with an address): the gateway dials the device at `address`. accept: the device dials the gateway itself (device-to-server mode, port 51212) and rollcall adds its ID to the gateway\'s accept filter, keeping every other entry; no address is given. Absent and no address: rollcall asks the gateway nothing (the gateway already has the device).'),
          port: z.number().int().min(1).max(65535).default(51211).describe('Device port.'),
          useSSL: z.boolean().default(false).describe('TLS between the gateway and the device.'),
          location: z.string().optional().describe('A site area, for `rollcall sync --location`.'),
          accessGroups: z.array(z.number().int().min(0)).default([]).describe('Access groups this device serves (access-group-devices mode).'),
        })
          .superRefine((device, ctx) => {
            if (device.connection === 'accept' && device.address !== undefined) {
              ctx.addIssue({ code: 'custom', path: ['address'], message: 'a device with connection: accept dials the gateway itself; leave out its address' });
            }
            if (device.connection === 'dial' && device.address === undefined) {
              ctx.addIssue({ code: 'custom', path: ['address'], message: 'a device with connection: dial needs the address the gateway dials' });
            }
          }),
      )
      .default([])
      .describe('Devices to keep in sync. With the embedded simulator, its devices are found without listing them here.'),
    site: {
      alphanumericIds: z
        .boolean()
        .default(false)
        .describe('Whether user IDs may hold letters (BioStar\'s site-wide "User ID type": Alphanumeric). Off: IDs are numbers from 1 to 4294967294; imported rows with other IDs fail. Devices must have alphanumeric IDs on too.'),
    },
    spool: {
      dir: z
        .string()
        .min(1)
        .default('./var/spool/rollcall')
        .describe('The drop folder: incoming/ (watched), processing/, done/YYYY-MM-DD/, failed/, outgoing/ (exports).')
        .meta({ requiresRestart: true, path: true }),
      stableMs: z
        .number()
        .int()
        .min(0)
        .max(600_000)
        .default(1000)
        .describe('A dropped file is taken once its size and time have not changed for this long.')
        .meta(restart),
      rejects: {
        maxRows: z
          .number()
          .int()
          .min(1)
          .default(10_000)
          .describe('A file with more rejected rows than this is refused (ROLLCALL_ERR_IMPORT_REFUSED) as soon as it has them; batches committed before stay.')
          .meta(restart),
        maxShare: z
          .number()
          .min(0)
          .max(1)
          .default(0.5)
          .describe('...or with more than this share of its rows rejected, once `minRows` rows have been read (1 = never by share).')
          .meta(restart),
        minRows: z.number().int().min(1).default(1000).describe('Rows read before `maxShare` is judged.').meta(restart),
        errorCsvRows: z
          .number()
          .int()
          .min(0)
          .default(1000)
          .describe('Rejected rows kept in NAME.errors.csv (the first ones, in file order); the report says how many more there were.')
          .meta(restart),
      },
      pinRetry: {
        baseMs: z.number().int().min(10).default(1000).describe('While the gateway cannot be reached to hash PINs, the import waits this long before trying again...').meta(restart),
        factor: z.number().min(1).default(1.6).describe('...each time this much longer...').meta(restart),
        maxMs: z.number().int().min(10).default(60_000).describe('...up to this; the file stays in processing/ until the gateway answers, and a stop resumes it from its checkpoint.').meta(restart),
      },
    },
    seed: {
      users: z
        .array(
          z.strictObject({
            id: z.string().min(1).describe('User ID.'),
            name: z.string().default('').describe('Name.'),
            csn: z
              .string()
              .regex(/^[1-9][0-9]*$/, 'a CSN card number in decimal')
              .refine((v) => BigInt(v) < 1n << 80n, 'a CSN is at most 2^80−1')
              .optional()
              .describe('A CSN card, as a decimal number.'),
            accessGroups: z.array(z.number().int().min(0)).default([]).describe('Access groups.'),
          }),
        )
        .default([])
        .describe('Users committed at start when the database is empty: a first run, a demo. Ignored once any user exists.'),
    },
    watchers: {
      enabled: z.array(z.string().min(1)).default(['csv', 'datafile']).describe('Watcher plugins that take files from the drop folder.').meta(restart),
    },
  };
}

/** Where a plugin's config lives, unless its definition says otherwise. */
export function configKeyOf(definition: Pick<PluginDefinition, 'kind' | 'name'> & { configKey?: string }): string {
  if (definition.configKey) return definition.configKey;
  const parent: Record<PluginKind, string> = {
    storage: 'storage',
    transport: 'transport',
    'sync-mode': 'sync.modes',
    watcher: 'watchers',
  };
  return `${parent[definition.kind]}.${definition.name}`;
}

function graft(tree: ConfigTree, path: string, schema: z.ZodType, owner: string): void {
  const keys = path.split('.');
  let node: ConfigTree = tree;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) {
      const created: ConfigTree = {};
      node[key] = created;
      node = created;
    } else if (next instanceof z.ZodType) {
      throw new Error(`plugin ${owner}: config key ${path} runs into the core key ${key}`);
    } else {
      node = next;
    }
  }
  const leaf = keys[keys.length - 1]!;
  if (node[leaf] !== undefined) throw new Error(`plugin ${owner}: config key ${path} is already taken`);
  node[leaf] = schema;
}

function toSchema(tree: ConfigTree): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, value] of Object.entries(tree)) {
    shape[key] = value instanceof z.ZodType ? value : toSchema(value);
  }
  // prefault: an absent group is parsed from {} so the defaults inside it apply.
  return z.strictObject(shape).prefault({});
}

/** The one config schema: the core plus every known plugin's schema under its key. */
export function buildConfigSchema(definitions: readonly PluginDefinition[]): z.ZodType<RollcallConfig> {
  const tree = coreTree();
  for (const definition of definitions) {
    const schema = definition.configSchema as z.ZodType;
    // An absent plugin section takes the plugin's defaults.
    const withDefault = schema instanceof z.ZodObject ? schema.prefault({}) : schema;
    graft(tree, configKeyOf(definition), withDefault, `${definition.kind}/${definition.name}`);
  }
  return toSchema(tree) as z.ZodType<RollcallConfig>;
}

/** The validated config. Plugin sections are typed by their plugins; the core is typed here. */
export interface RollcallConfig {
  dataDir: string;
  log: { level: (typeof LOG_LEVELS)[number] };
  http: { listen: string };
  admin: AdminConfig;
  shutdown: { timeoutMs: number };
  plugins: { packages: string[]; startTimeoutMs: number; stopTimeoutMs: number };
  storage: { backend: string; [plugin: string]: unknown };
  transport: { use: string; [plugin: string]: unknown };
  sync: SyncConfig;
  cluster: ClusterConfig;
  devices: DeviceConfig[];
  site: { alphanumericIds: boolean };
  spool: { dir: string; stableMs: number; rejects: RejectLimits; pinRetry: PinRetryPolicy };
  seed: { users: { id: string; name: string; csn?: string; accessGroups: number[] }[] };
  watchers: { enabled: string[]; [plugin: string]: unknown };
  [key: string]: unknown;
}

export interface ClusterConfig {
  instanceId?: string;
  leaseTtlMs: number;
  renewIntervalMs: number;
}

export interface AdminConfig {
  socket?: string;
  maxMessageBytes: number;
  maxUploadBytes: number;
  readersGroup: string;
  operatorsGroup: string;
}


export interface SyncConfig {
  mode: string;
  mergePolicy: 'fill-vacant' | 'device-wins' | 'server-wins';
  deviceDeletes: 'restore' | 'keep-deleted';
  templateFormat: TemplateFormatName;
  batch: { maxUsers: number; maxBytes: number };
  concurrency: number;
  /** Absent in configs made by hand (tests): no hold. */
  importHoldMs?: number;
  backoff: { baseMs: number; factor: number; maxMs: number };
  quarantine: { after: number; retryMs: number };
  reconcile: { onConnect: boolean; intervalMs: number; deepIntervalMs: number; pageSize: number };
  massRemoval: { share: number; minimum: number };
  tombstoneRetentionDays: number;
  deviceEvents: { readAttempts: number; retryBaseMs: number; retryMaxMs: number };
  discoverDevices: boolean;
  modes?: Record<string, unknown>;
}

export interface DeviceConfig {
  id: number;
  name?: string;
  address?: string;
  connection?: 'dial' | 'accept';
  port: number;
  useSSL: boolean;
  location?: string;
  accessGroups: number[];
}

/**
 * An IPv4 address as the gateway takes it (ConnectInfo.IPAddr): four decimal parts 0-255,
 * no leading zeros (read as octal by some parsers), and none the device cannot have
 * (0.0.0.0, broadcast, multicast).
 */
export function isDeviceIpv4(value: string): boolean {
  const parts = value.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return false;
  const first = Number(parts[0]);
  if (value === '0.0.0.0' || value === '255.255.255.255') return false;
  return first < 224;
}

/** Whether a configured device dials the gateway itself (device-to-server). */
export function acceptsConnection(device: Pick<DeviceConfig, 'connection'>): boolean {
  return device.connection === 'accept';
}

/** JSON Schema for editors, from the same source. */
export function configJsonSchema(definitions: readonly PluginDefinition[]): Record<string, unknown> {
  const json = z.toJSONSchema(buildConfigSchema(definitions), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...json, title: 'rollcall configuration', $id: 'https://rollcall.invalid/config.schema.json' };
}
