/**
 * An import's next batch is read and merged while the one before is still being written
 * (sink.ts: accept() resolves once its commit is queued). Over the real drop folder, CSV
 * watcher and LevelDB store, with the store's commits held back by the test, so that the
 * window in which a batch is queued but not written is certain rather than likely.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../../daemon/plugins/api.js';
import { SpoolHarness, until } from '../../helpers/ingest-spool.js';

/** Holds every commit that carries users until `release()`; other commits go through. */
function holdUserCommits(store: Store): { release(): void; failNext(error: Error): void; held: () => number } {
  const commit = store.commit.bind(store);
  let open: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let held = 0;
  let failure: Error | undefined;
  store.commit = (mutations, options) => {
    if (!mutations.some((m) => m.type === 'putUser')) return commit(mutations, options);
    held++;
    const fail = failure;
    failure = undefined;
    // Handed to the store in call order once released: the order the sink made them in.
    return gate.then(() => (fail ? Promise.reject(fail) : commit(mutations, options)));
  };
  return { release: () => open(), failNext: (error) => (failure = error), held: () => held };
}

test('a user in two consecutive batches gets both rows when the second is merged before the first is written', async () => {
  const h = await SpoolHarness.start({ csv: { batchSize: 2, mode: 'overwrite' } });
  try {
    const gate = holdUserCommits(h.store);
    await h.drop('two.csv', '\uFEFFuser_id,name,department\r\n1,Alice,\r\n2,Bob,\r\n1,,Sales\r\n');
    // The second batch's commit is made (so it was merged) while the first is still held.
    await until('both batches merged, neither written', () => gate.held() === 2);
    assert.equal(await h.store.getUser('1'), undefined, 'the first batch is not written yet');
    gate.release();
    const [report] = await h.reportsAtLeast(1);
    assert.deepEqual(report!.rows, { imported: 3, unchanged: 0, failed: 0 });
    const user = await h.store.getUser('1');
    assert.equal(user?.name, 'Alice', "the first row's name, though the second was merged before it was written");
    assert.equal(user?.department, 'Sales');
  } finally {
    await h.stop();
  }
});

test('a batch whose commit fails lets nothing after it land: the import stops at the checkpoint before it', async () => {
  const h = await SpoolHarness.start({ csv: { batchSize: 2 } });
  try {
    const gate = holdUserCommits(h.store);
    gate.failNext(new Error('the disk is full'));
    await h.drop('three.csv', '\uFEFFuser_id,name\r\n1,A\r\n2,B\r\n3,C\r\n4,D\r\n5,E\r\n');
    await until('the second batch merged while the first is held', () => gate.held() >= 2);
    gate.release();
    await until('the import stopped', () => h.folder.status().current === undefined);
    for (const id of ['1', '2', '3', '4', '5']) assert.equal(await h.store.getUser(id), undefined, `user ${id} is not stored`);
    const [record] = await h.store.listImports();
    assert.equal(record?.state, 'running', 'the file resumes at the next start');
    assert.equal(record?.checkpoint, 0, 'from before the batch that failed');
    assert.equal(h.reports.length, 0);
  } finally {
    await h.stop();
  }
});
