import { z } from 'zod';

const restart = { requiresRestart: true } as const;

export const configSchema = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .optional()
      .describe('The LevelDB directory. Default: `leveldb` inside the plugin data directory (<dataDir>/plugins/storage/level/leveldb).')
      .meta(restart),
    cacheSize: z
      .number()
      .int()
      .min(0)
      .default(32 * 1024 * 1024)
      .describe('LevelDB block cache in bytes: hot user records and index blocks are read from memory.')
      .meta(restart),
    writeBufferSize: z
      .number()
      .int()
      .min(64 * 1024)
      .default(8 * 1024 * 1024)
      .describe('LevelDB memtable size in bytes: larger absorbs big imports with fewer compactions, at the cost of memory and a longer log replay on open.')
      .meta(restart),
    sync: z
      .boolean()
      .default(false)
      .describe('fsync every commit. Off, a commit survives a killed daemon (the write-ahead log is in the kernel) but the last commits may be lost if the machine loses power; on, every commit waits for the disk.')
      .meta(restart),
  })
  .describe('The default store: LevelDB on local disk.');

export type LevelStorageConfig = z.infer<typeof configSchema>;
