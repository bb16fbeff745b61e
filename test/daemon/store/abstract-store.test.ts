/**
 * The state machine and queue of AbstractStore, driven through the memory backend with
 * a gate in its protected methods, so the test decides when a backend call finishes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isRollcallError } from '../../../daemon/errors.js';
import { emptyUser, type User } from '../../../daemon/model/user.js';
import type { Mutation } from '../../../daemon/plugins/api.js';
import type { OpenedState } from '../../../daemon/store/abstract-store.js';
import type { CommitPlan } from '../../../daemon/store/commit-plan.js';
import { MemoryStore } from '../../../plugins/storage/memory/memory-store.js';

/** A promise the test resolves by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

class GatedStore extends MemoryStore {
  commitGate: Promise<void> | undefined;
  /** Holds a commit after the backend has applied it, before it resolves. */
  appliedGate: Promise<void> | undefined;
  readGate: Promise<void> | undefined;
  failNextCommit: Error | undefined;
  failNextOpen: Error | undefined;
  readonly calls: string[] = [];

  protected override async _open(): Promise<OpenedState> {
    this.calls.push('open');
    if (this.failNextOpen) {
      const error = this.failNextOpen;
      this.failNextOpen = undefined;
      throw error;
    }
    return super._open();
  }

  protected override async _close(): Promise<void> {
    this.calls.push('close');
    return super._close();
  }

  protected override async _commit(plan: CommitPlan): Promise<void> {
    this.calls.push(`commit ${plan.seq}`);
    await this.commitGate;
    if (this.failNextCommit) {
      const error = this.failNextCommit;
      this.failNextCommit = undefined;
      throw error;
    }
    await super._commit(plan);
    await this.appliedGate;
  }

  protected override async _getUsers(ids: string[]): Promise<(User | undefined)[]> {
    await this.readGate;
    this.calls.push('read');
    return super._getUsers(ids);
  }
}

const put = (id: string): Mutation => ({ type: 'putUser', user: emptyUser(id), origin: { kind: 'server' } });

test('status moves closed → opening → open → closing → closed', async () => {
  const store = new GatedStore();
  assert.equal(store.status, 'closed');
  const starting = store.start();
  assert.equal(store.status, 'opening');
  await starting;
  assert.equal(store.status, 'open');
  const stopping = store.stop();
  assert.equal(store.status, 'closing');
  await stopping;
  assert.equal(store.status, 'closed');
  assert.deepEqual(store.calls, ['open', 'close']);
});

test('a failed open leaves the store closed, and a later start can succeed', async () => {
  const store = new GatedStore();
  store.failNextOpen = new Error('disk on fire');
  await assert.rejects(store.start(), /disk on fire/);
  assert.equal(store.status, 'closed');
  await store.start();
  assert.equal(store.status, 'open');
  await store.stop();
});

test('stop() waits for a commit in the backend, and refuses new calls meanwhile', async () => {
  const store = new GatedStore();
  await store.start();
  const g = gate();
  store.commitGate = g.opened;
  const committing = store.commit([put('a')]);
  await nextTurn();
  const stopping = store.stop();
  await assert.rejects(store.commit([put('b')]), (error) => isRollcallError(error, 'ROLLCALL_ERR_STORE_CLOSED'));
  await nextTurn();
  assert.deepEqual(store.calls, ['open', 'commit 1'], 'not closed while the commit runs');
  g.open();
  assert.deepEqual(await committing, { seq: 1 });
  await stopping;
  assert.deepEqual(store.calls, ['open', 'commit 1', 'close']);
});

test('stop() waits for reads in the backend', async () => {
  const store = new GatedStore();
  await store.start();
  await store.commit([put('a')]);
  const g = gate();
  store.readGate = g.opened;
  const reading = store.getUser('a');
  const stopping = store.stop();
  await nextTurn();
  assert.equal(store.calls.includes('close'), false);
  g.open();
  assert.equal((await reading)?.id, 'a');
  await stopping;
  assert.deepEqual(store.calls.slice(-2), ['read', 'close']);
});

test('commits reach the backend one at a time, in call order', async () => {
  const store = new GatedStore();
  await store.start();
  const g = gate();
  store.commitGate = g.opened;
  const commits = [store.commit([put('a')]), store.commit([put('b'), put('c')]), store.commit([put('d')])];
  await nextTurn();
  assert.deepEqual(store.calls, ['open', 'commit 1'], 'the second waits for the first');
  g.open();
  assert.deepEqual(
    (await Promise.all(commits)).map((r) => r.seq),
    [1, 3, 4],
  );
  assert.deepEqual(store.calls, ['open', 'commit 1', 'commit 3', 'commit 4']);
  await store.stop();
});

test('a backend failure rejects that commit only; the seq and waiters do not move', async () => {
  const store = new GatedStore();
  await store.start();
  let woke = false;
  const waiting = store.waitForSeq(0).then((seq) => {
    woke = true;
    return seq;
  });
  store.failNextCommit = new Error('write failed');
  const failed = store.commit([put('a')]);
  const next = store.commit([put('b')]);
  await assert.rejects(failed, /write failed/);
  assert.equal(woke, false);
  assert.deepEqual(await next, { seq: 1 }, 'the failed commit used no seq');
  assert.equal(await waiting, 1);
  assert.equal((await store.getUser('a')), undefined);
  assert.equal((await store.getUser('b'))?.id, 'b');
  await store.stop();
});

test('changesSince never shows entries past the seq readers were told about', async () => {
  const store = new GatedStore();
  await store.start();
  await store.commit([put('a')]);
  const g = gate();
  store.appliedGate = g.opened;
  const committing = store.commit([put('b')]);
  await nextTurn();
  assert.equal((await store.getUser('b'))?.id, 'b', 'the backend holds it already');
  assert.equal(store.currentSeq(), 1);
  assert.deepEqual((await store.changesSince(0)).map((c) => c.userId), ['a']);
  g.open();
  await committing;
  assert.deepEqual((await store.changesSince(0)).map((c) => c.userId), ['a', 'b']);
  await store.stop();
});
