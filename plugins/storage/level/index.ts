import { join } from 'node:path';
import type { PluginDefinition } from '../../../daemon/plugins/api.js';
import { LevelStore } from './level-store.js';
import { repairLevelStore } from './repair.js';
import { configSchema, type LevelStorageConfig } from './schema.js';

function storeLocation(dataDir: string, config: LevelStorageConfig): string {
  return config.path ?? join(dataDir, 'leveldb');
}

const definition: PluginDefinition<LevelStorageConfig, LevelStore> = {
  kind: 'storage',
  name: 'level',
  description: 'The site database on local disk (LevelDB): users, change feed, cursors, devices, imports, events.',
  configSchema,
  create(ctx, config) {
    return new LevelStore({
      location: storeLocation(ctx.dataDir, config),
      logger: ctx.logger,
      cacheSize: config.cacheSize,
      writeBufferSize: config.writeBufferSize,
      sync: config.sync,
    });
  },
  repair(ctx, config, options) {
    return repairLevelStore({ location: storeLocation(ctx.dataDir, config), dropCorrupt: options.dropCorrupt });
  },
};

export default definition;
