import type { PluginDefinition } from '../../../daemon/plugins/api.js';
import { PostgresStore } from './postgres-store.js';
import { configSchema, type PostgresStorageConfig } from './schema.js';

const definition: PluginDefinition<PostgresStorageConfig, PostgresStore> = {
  kind: 'storage',
  name: 'postgres',
  description: 'The site database on a PostgreSQL server: users, change feed, cursors, devices, imports, events, in tables.',
  configSchema,
  create(ctx, config) {
    return new PostgresStore({
      connection: config,
      poolSize: config.poolSize,
      startRetryMs: config.startRetryMs,
      logger: ctx.logger,
    });
  },
};

export default definition;
