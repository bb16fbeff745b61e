/**
 * The built-in plugins, in one table. Everything else in daemon/ knows plugins only
 * through the contract in api.ts; third-party ones come from `plugins.packages`.
 */
import type { PluginDefinition } from './api.js';
import levelStorage from '../../plugins/storage/level/index.js';
import memoryStorage from '../../plugins/storage/memory/index.js';
import postgresStorage from '../../plugins/storage/postgres/index.js';
import gsdkTransport from '../../plugins/transports/gsdk/index.js';
import manualMode from '../../plugins/sync-modes/manual/index.js';
import allDevicesMode from '../../plugins/sync-modes/all-devices/index.js';
import allDevicesWithUpdatesMode from '../../plugins/sync-modes/all-devices-with-device-updates/index.js';
import accessGroupDevicesMode from '../../plugins/sync-modes/access-group-devices/index.js';
import csvWatcher from '../../plugins/watchers/csv/index.js';
import datafileWatcher from '../../plugins/watchers/datafile/index.js';

export const BUILTIN_PLUGINS: readonly PluginDefinition[] = [
  levelStorage,
  memoryStorage,
  postgresStorage,
  gsdkTransport,
  manualMode,
  allDevicesMode,
  allDevicesWithUpdatesMode,
  accessGroupDevicesMode,
  csvWatcher,
  datafileWatcher,
] as unknown as readonly PluginDefinition[];
