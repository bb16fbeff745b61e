import { join } from 'node:path';
import type { PluginDefinition } from '../../../daemon/plugins/api.js';
import { LevelStore } from './level-store.js';
import { configSchema, type LevelStorageConfig } from './schema.js';

const definition: PluginDefinition<LevelStorageConfig, LevelStore> = {
  kind: 'storage',
  name: 'level',
  description: 'The site database on local disk (LevelDB): users, change feed, cursors, devices, imports, events.',
  configSchema,
  create(ctx, config) {
    return new LevelStore({
      location: config.path ?? join(ctx.dataDir, 'leveldb'),
      logger: ctx.logger,
      cacheSize: config.cacheSize,
      writeBufferSize: config.writeBufferSize,
      sync: config.sync,
    });
  },
};

export default definition;
