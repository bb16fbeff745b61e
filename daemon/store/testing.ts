/**
 * Real stores for tests: a LevelDB in a fresh temp directory, or a memory store, opened
 * and ready. Tests of any part that needs a store should use these rather than a fake.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { LevelStore } from '../../plugins/storage/level/level-store.js';
import { MemoryStore } from '../../plugins/storage/memory/memory-store.js';
import type { AbstractStoreOptions } from './abstract-store.js';

export interface TempLevelStore {
  /** The open store (after reopen(), the reopened one). */
  store: LevelStore;
  /** The temp directory; the LevelDB is in `dir/leveldb`. */
  dir: string;
  /** Closes the store and opens a new one on the same directory, as a daemon restart would. */
  reopen(): Promise<LevelStore>;
  /** Closes the store and removes the directory. */
  cleanup(): Promise<void>;
}

export interface TempStoreOptions extends AbstractStoreOptions {
  logger?: Logger;
  /** fsync each commit (default false, as in the plugin). */
  sync?: boolean;
}

export async function tempLevelStore(options: TempStoreOptions = {}): Promise<TempLevelStore> {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-store-'));
  const open = async (): Promise<LevelStore> => {
    const store = new LevelStore({
      location: join(dir, 'leveldb'),
      logger: options.logger ?? pino({ level: 'silent' }),
      sync: options.sync ?? false,
      ...(options.now ? { now: options.now } : {}),
    });
    await store.start();
    return store;
  };
  const handle: TempLevelStore = {
    store: await open().catch(async (error: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }),
    dir,
    async reopen() {
      await handle.store.stop();
      handle.store = await open();
      return handle.store;
    },
    async cleanup() {
      await handle.store.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** An open memory store. */
export async function openMemoryStore(options: AbstractStoreOptions = {}): Promise<MemoryStore> {
  const store = new MemoryStore(options);
  await store.start();
  return store;
}
