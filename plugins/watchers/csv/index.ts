import type { PluginDefinition } from '../../../daemon/plugins/api.js';
import { configSchema, type CsvConfig } from './schema.js';
import { CsvWatcher } from './watcher.js';

/** BioStar-style user CSV import from the drop folder, and the CSV exporter beside it. */
const csvWatcher: PluginDefinition<CsvConfig, CsvWatcher> = {
  kind: 'watcher',
  name: 'csv',
  description: 'Imports BioStar-style user CSV files dropped into the spool, and writes BioStar-style CSV exports.',
  configSchema,
  create: (ctx, config) => new CsvWatcher(ctx, config),
};

export default csvWatcher;
