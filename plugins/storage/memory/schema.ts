import { z } from 'zod';

/** Nothing to configure: the memory store lives and dies with the process. */
export const configSchema = z.strictObject({}).describe('A store in memory, for tests and --dry-run. Nothing is kept after the process ends.');

export type MemoryStorageConfig = z.infer<typeof configSchema>;
