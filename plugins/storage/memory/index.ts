import type { PluginDefinition } from '../../../daemon/plugins/api.js';
import { MemoryStore } from './memory-store.js';
import { configSchema, type MemoryStorageConfig } from './schema.js';

const definition: PluginDefinition<MemoryStorageConfig, MemoryStore> = {
  kind: 'storage',
  name: 'memory',
  description: 'The site database in memory, for tests and --dry-run; nothing survives the process.',
  configSchema,
  create() {
    return new MemoryStore();
  },
};

export default definition;
