import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storeNames, storeOptions } from '../../../bench/lib/bench-stores.js';
import type { PostgresServer } from '../../helpers/postgres-server.js';

test('storeNames: level unless given, in the order given, unknown or repeated names refused', () => {
  assert.deepEqual(storeNames(undefined), ['level']);
  assert.deepEqual(storeNames('postgres, level'), ['postgres', 'level']);
  assert.throws(() => storeNames('level,sqlite'), /unknown store sqlite/);
  assert.throws(() => storeNames('level,level'), /named twice/);
});

test('storeOptions: nothing for LevelDB; the server and the schema for postgres, which needs the server', () => {
  assert.deepEqual(storeOptions('level', undefined, 'x'), {});
  const server = { socketDir: '/tmp/pg', port: 5432, user: 'u', database: 'd' } as PostgresServer;
  assert.deepEqual(storeOptions('postgres', server, 'fanout_0_10'), { postgres: { host: '/tmp/pg', port: 5432, user: 'u', database: 'd', schema: 'fanout_0_10', startRetryMs: 0 } });
  assert.throws(() => storeOptions('postgres', undefined, 'x'), /needs the run's server/);
});
