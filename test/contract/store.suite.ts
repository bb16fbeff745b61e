/**
 * The store contract (ARCHITECTURE §3–4), run by every storage backend in one line:
 *
 *   storeSuite('level', async () => { ...; return { store, reopen, cleanup }; });
 *
 * The factory returns an open, empty store; `reopen` (optional) closes it and opens the
 * same data again; `cleanup` closes whatever is current and removes what it made.
 */
import { describe } from 'node:test';
import { commitTests } from './store/commit.js';
import { eventTests } from './store/events.js';
import { feedTests } from './store/feed.js';
import { harness, type StoreFactory } from './store/harness.js';
import { ledgerTests } from './store/ledgers.js';
import { lifecycleTests } from './store/lifecycle.js';
import { reopenTests } from './store/reopen.js';
import { summaryTests } from './store/summaries.js';
import { userTests } from './store/users.js';
import { waiterTests } from './store/waiters.js';

export type { StoreFactory, StoreUnderTest } from './store/harness.js';

export function storeSuite(name: string, factory: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    const h = harness(factory);
    describe('lifecycle', () => lifecycleTests(h));
    describe('commit', () => commitTests(h));
    describe('change feed', () => feedTests(h));
    describe('waitForSeq', () => waiterTests(h));
    describe('users', () => userTests(h));
    describe('user summaries', () => summaryTests(h));
    describe('cursors, devices, imports', () => ledgerTests(h));
    describe('events', () => eventTests(h));
    describe('reopen', () => reopenTests(h));
  });
}
