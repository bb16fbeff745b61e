/** The PostgreSQL store's schema versions: applied at start in one transaction, a newer database refused. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { isRollcallError } from '../../../daemon/errors.js';
import { EXIT, startFailureExit } from '../../../daemon/exit-codes.js';
import { emptyUser } from '../../../daemon/model/user.js';
import { latestVersion, migrations, type Migration } from '../../../plugins/storage/postgres/migrations.js';
import { postgresSkipReason, startPostgresServer } from '../../helpers/postgres-server.js';
import { freshSchema, postgresConfig, postgresStore } from '../../helpers/postgres-stores.js';

const skip = postgresSkipReason();
if (skip !== undefined) {
  test('postgres migrations', { skip }, () => {});
} else {
  const server = await startPostgresServer();
  after(() => server.stop());

  const versions = async (schema: string) =>
    (await server.query(`SELECT version, name FROM ${schema}.schema_migrations ORDER BY version`)).rows as { version: number; name: string }[];
  const tables = async (schema: string) =>
    (await server.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema])).rows.map(
      (r: { table_name: string }) => r.table_name,
    );

  test('a new schema is created at the newest version, with every documented table', async () => {
    const schema = freshSchema();
    const store = postgresStore(postgresConfig(server, schema));
    await store.start();
    try {
      assert.deepEqual(
        (await versions(schema)).map((v) => v.version),
        migrations.map((m) => m.version),
      );
      assert.equal(latestVersion, 2);
      assert.deepEqual(await tables(schema), ['cursors', 'devices', 'events', 'feed', 'imports', 'instances', 'leases', 'schema_migrations', 'store_state', 'users']);
    } finally {
      await store.stop();
      await server.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });

  test('a database migrated by a newer rollcall is refused with STORE_VERSION and left as it was', async () => {
    const schema = freshSchema();
    const config = postgresConfig(server, schema);
    const first = postgresStore(config);
    await first.start();
    await first.commit([{ type: 'putUser', user: emptyUser('kept'), origin: { kind: 'server' } }]);
    await first.stop();
    try {
      // What a newer rollcall would have left: one more migration recorded, one more table.
      await server.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES (${latestVersion + 1}, 'from the future')`);
      await server.query(`CREATE TABLE ${schema}.future (x int)`);
      const before = { versions: await versions(schema), tables: await tables(schema) };
      const older = postgresStore(config);
      await assert.rejects(older.start(), (error) => {
        assert.ok(isRollcallError(error, 'ROLLCALL_ERR_STORE_VERSION'), String(error));
        assert.match(error.message, new RegExp(`version ${latestVersion + 1}, newer than this rollcall knows \\(${latestVersion}\\)`));
        assert.match(error.message, new RegExp(schema));
        assert.equal(startFailureExit(error), EXIT.DATA, 'rollcall run exits 65: a restart cannot mend it');
        return true;
      });
      assert.equal(older.health().ok, false);
      assert.deepEqual({ versions: await versions(schema), tables: await tables(schema) }, before);
      const users = await server.query(`SELECT count(*)::int AS n FROM ${schema}.users`);
      assert.equal((users.rows[0] as { n: number }).n, 1);
    } finally {
      await server.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });

  test('a pending migration is applied at start and recorded; the data stays', async () => {
    const schema = freshSchema();
    const config = postgresConfig(server, schema);
    const v1 = postgresStore(config);
    await v1.start();
    await v1.commit([{ type: 'putUser', user: emptyUser('a'), origin: { kind: 'server' } }]);
    await v1.stop();
    const next: Migration[] = [...migrations, { version: latestVersion + 1, name: 'a test column', sql: 'ALTER TABLE devices ADD COLUMN note text' }];
    const v2 = postgresStore(config, { migrations: next });
    await v2.start();
    try {
      assert.deepEqual(
        (await versions(schema)).map((v) => v.version),
        next.map((m) => m.version),
      );
      const column = await server.query("SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'devices' AND column_name = 'note'", [schema]);
      assert.equal(column.rowCount, 1);
      assert.equal((await v2.getUser('a'))?.id, 'a');
      assert.equal(v2.currentSeq(), 1);
    } finally {
      await v2.stop();
      await server.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });

  test('a migration that fails leaves nothing of itself: the transaction is rolled back whole', async () => {
    const schema = freshSchema();
    const broken: Migration[] = [
      ...migrations,
      { version: latestVersion + 1, name: 'half good', sql: 'CREATE TABLE half (x int); SELECT no_such_function()' },
    ];
    const store = postgresStore(postgresConfig(server, schema), { migrations: broken });
    try {
      await assert.rejects(store.start(), /no_such_function/);
      // Not even migration 1 or the schema: all of them ran in the one transaction.
      const found = await server.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      assert.equal(found.rowCount, 0);
      assert.equal(store.health().ok, false);
    } finally {
      await server.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });

  test('two stores starting together on a new schema both open, and it is migrated once', async () => {
    const schema = freshSchema();
    const config = postgresConfig(server, schema);
    const stores = [postgresStore(config), postgresStore(config), postgresStore(config)];
    try {
      await Promise.all(stores.map((s) => s.start()));
      assert.deepEqual(
        (await versions(schema)).map((v) => v.version),
        migrations.map((m) => m.version),
      );
      await stores[0]!.commit([{ type: 'putUser', user: emptyUser('x'), origin: { kind: 'server' } }]);
      assert.equal(await stores[2]!.waitForSeq(0), 1);
    } finally {
      await Promise.all(stores.map((s) => s.stop()));
      await server.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });
}
