/**
 * The count behind `rollcall status` and the rollcall_users_pin_hash_foreign gauge reads
 * every user's summary. Scrapes that arrive while one count is under way share it: on a large store a
 * count outlasts the scrape interval, and a scan started per scrape piled up (a full read
 * of the store per scrape, during an import above all).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { emptyUser, type User } from '../../daemon/model/user.js';
import { Metrics } from '../../daemon/obs/metrics.js';
import { PinHashAudit } from '../../daemon/pin-hash-audit.js';
import { MemoryStore } from '../../plugins/storage/memory/memory-store.js';

const origin = { kind: 'admin' as const };

test('counts asked for while one is under way share its one read of the users', async () => {
  const store = new MemoryStore();
  await store.start();
  try {
    const users: User[] = [];
    for (let i = 1; i <= 50; i++) users.push({ ...emptyUser(String(i)), pinHash: 'aa'.repeat(32), pinHashScheme: i % 5 === 0 ? 'other' : 'current' });
    await store.commit(users.map((user) => ({ type: 'putUser' as const, user, origin })));
    let scans = 0;
    // The count reads the users' summaries (daemon/model/user-summary.ts), not whole users.
    const scanUserSummaries = store.scanUserSummaries.bind(store);
    store.scanUserSummaries = (...args: Parameters<MemoryStore['scanUserSummaries']>) => {
      scans++;
      return scanUserSummaries(...args);
    };
    const audit = new PinHashAudit({ store: () => store, scheme: async () => 'current', logger: pino({ level: 'silent' }), metrics: new Metrics() });
    const counts = await Promise.all([audit.count(), audit.count(), audit.count()]);
    assert.deepEqual(counts, [1, 2, 3].map(() => ({ scheme: 'current', count: 10 })));
    assert.equal(scans, 1, 'one read of the users for the three counts');
    // Once it is done, a commit makes the next count read again (and see the change).
    await store.commit([{ type: 'putUser', user: { ...emptyUser('51'), pinHash: 'bb'.repeat(32), pinHashScheme: 'other' }, origin }]);
    assert.deepEqual(await audit.count(), { scheme: 'current', count: 11 });
    assert.equal(scans, 2);
  } finally {
    await store.stop();
  }
});
