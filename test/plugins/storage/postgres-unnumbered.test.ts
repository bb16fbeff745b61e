/**
 * A commit of the PostgreSQL store that takes no number (cursor moves, device records: no
 * user, no event) is written without the store_state lock, so it does not queue behind a
 * numbered commit of another instance; a numbered commit still does, and still gets its
 * numbers from the database. Shown by holding the row lock from a connection of the test's
 * own, as a long commit of another instance would.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { emptyUser } from '../../../daemon/model/user.js';
import { postgresSkipReason, startPostgresServer } from '../../helpers/postgres-server.js';
import { freshSchema, postgresConfig, postgresStore } from '../../helpers/postgres-stores.js';

const origin = { kind: 'server' as const, by: 'unnumbered' };
const put = (id: string) => ({ type: 'putUser' as const, user: { ...emptyUser(id), name: id }, origin });

const skip = postgresSkipReason();
if (skip !== undefined) {
  test('postgres: unnumbered commits skip the lock', { skip }, () => {});
} else {
  const server = await startPostgresServer();
  after(() => server.stop());

  test('while another connection holds store_state, a cursor commit goes through and a user commit waits for it', async () => {
    const schema = freshSchema();
    const config = postgresConfig(server, schema);
    const store = postgresStore(config);
    await store.start();
    const holder = new pg.Client({ host: server.socketDir, port: server.port, user: server.user, database: server.database });
    await holder.connect();
    try {
      await store.commit([put('1'), put('2')]);
      await store.commit([{ type: 'putDevice', device: { id: 7, source: 'config', lastEventId: 0 } }]);
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ${schema}.store_state FOR UPDATE`);

      // Takes no number: done while the row is held.
      const cursor = await Promise.race([store.commit([{ type: 'setCursor', deviceId: 7, seq: 2 }]).then(() => 'committed'), sleep(5000).then(() => 'blocked')]);
      assert.equal(cursor, 'committed');
      assert.equal(await store.cursor(7), 2);

      // Takes a seq: waits for the row.
      let numbered = false;
      const user = store.commit([put('3')]).then((r) => {
        numbered = true;
        return r;
      });
      await sleep(300);
      assert.equal(numbered, false, 'a numbered commit waits for the lock');
      // Another instance's commit, made under the held lock: the waiting one must number after it.
      await holder.query(`UPDATE ${schema}.store_state SET seq = seq + 5`);
      await holder.query('COMMIT');
      const result = await user;
      assert.equal(result.seq, 8, 'numbered from the database (2 + 5 + 1), not from this process');
      const changes = await store.changesSince(2);
      assert.deepEqual(changes.map((c) => [c.seq, c.userId]), [[8, '3']]);
    } finally {
      await holder.end();
      await store.stop();
      await server.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });
}
