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
import type { AbstractStoreOptions } from '../../daemon/store/abstract-store.js';

export interface TempLevelStore {
  /** The open store (after reopen(), the reopened one). */
  store: LevelStore;
  /** tempLevelStore: the temp directory, with the LevelDB in `dir/leveldb`; levelStoreAt: the location. */
  dir: string;
  /** Closes the store and opens a new one on the same directory, as a daemon restart would. */
  reopen(): Promise<LevelStore>;
  /** Closes the store; tempLevelStore also removes the directory. */
  cleanup(): Promise<void>;
}

export interface TempStoreOptions extends AbstractStoreOptions {
  logger?: Logger;
  /** fsync each commit (default false, as in the plugin). */
  sync?: boolean;
}

/** A LevelDB store opened at `location`, which the caller owns: cleanup closes it and leaves the files. */
export async function levelStoreAt(location: string, options: TempStoreOptions = {}): Promise<TempLevelStore> {
  const open = async (): Promise<LevelStore> => {
    const store = new LevelStore({
      location,
      logger: options.logger ?? pino({ level: 'silent' }),
      sync: options.sync ?? false,
      ...(options.now ? { now: options.now } : {}),
    });
    await store.start();
    return store;
  };
  const handle: TempLevelStore = {
    store: await open(),
    dir: location,
    async reopen() {
      await handle.store.stop();
      handle.store = await open();
      return handle.store;
    },
    async cleanup() {
      await handle.store.stop();
    },
  };
  return handle;
}

/** A LevelDB store in a fresh temp directory, which cleanup removes. */
export async function tempLevelStore(options: TempStoreOptions = {}): Promise<TempLevelStore> {
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-store-'));
  const handle = await levelStoreAt(join(dir, 'leveldb'), options).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  const close = handle.cleanup;
  handle.dir = dir;
  handle.cleanup = async () => {
    await close();
    await rm(dir, { recursive: true, force: true });
  };
  return handle;
}

/** An open memory store. */
export async function openMemoryStore(options: AbstractStoreOptions = {}): Promise<MemoryStore> {
  const store = new MemoryStore(options);
  await store.start();
  return store;
}
