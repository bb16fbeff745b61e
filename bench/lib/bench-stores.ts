/**
 * The `--stores level,postgres` option of a benchmark that runs rollcall on more than one
 * store: which stores, in order, and the engine rig's options for each (the postgres store
 * on the run's throwaway server, see test/helpers/postgres-server.ts).
 */
import type { PostgresServer } from '../../test/helpers/postgres-server.js';

export type StoreName = 'level' | 'postgres';

/** The stores named by the option's value (`level` when it is not given), in its order. */
export function storeNames(value: unknown): StoreName[] {
  if (typeof value !== 'string') return ['level'];
  const names = value.split(',').map((n) => n.trim());
  for (const name of names) if (name !== 'level' && name !== 'postgres') throw new Error(`--stores: unknown store ${name} (level, postgres)`);
  if (new Set(names).size !== names.length) throw new Error(`--stores: a store named twice (${value})`);
  return names as StoreName[];
}

/**
 * The engine rig's store options for `store`: none for LevelDB (a fresh temp dir); for
 * postgres, `schema` on the run's server (a fresh schema gives an empty store).
 */
export function storeOptions(store: StoreName, server: PostgresServer | undefined, schema: string): { postgres?: Record<string, unknown> } {
  if (store === 'level') return {};
  if (!server) throw new Error("the postgres store needs the run's server");
  return { postgres: { host: server.socketDir, port: server.port, user: server.user, database: server.database, schema, startRetryMs: 0 } };
}

/** What each store is, for a note. */
export function storeDescription(store: StoreName): string {
  return store === 'level'
    ? 'LevelDB in a temp dir'
    : 'postgres on a throwaway PostgreSQL server of the run (Debian package, unix socket, durable defaults: fsync and synchronous_commit on), a fresh schema per fleet, pool size the default';
}
