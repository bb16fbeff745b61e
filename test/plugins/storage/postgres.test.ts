import { after, test } from 'node:test';
import { postgresSkipReason, startPostgresServer } from '../../helpers/postgres-server.js';
import { tempPostgresStore } from '../../helpers/postgres-stores.js';
import { storeSuite } from '../../contract/store.suite.js';

const skip = postgresSkipReason();
if (skip !== undefined) {
  test('store contract: postgres', { skip }, () => {});
} else {
  const server = await startPostgresServer();
  after(() => server.stop());

  storeSuite('postgres', async () => {
    const temp = await tempPostgresStore(server);
    return { store: temp.store, reopen: () => temp.reopen(), cleanup: () => temp.cleanup() };
  });
}
