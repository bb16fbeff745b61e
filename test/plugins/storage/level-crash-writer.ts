/**
 * Child process of level-crash.test.ts: commits to a LevelDB store in a loop, printing
 * each commit's number once it has resolved, until it is killed with SIGKILL. Started
 * again on the same store, it carries on after the last commit it finds.
 *
 *   node level-crash-writer.js <location> <users-per-commit>
 *
 * Commit n puts users n*k+1 … n*k+k (k = users per commit), appends one event, moves the
 * cursor of device 1 to the previous commit's seq, and writes device 1 with
 * lastEventId = n: everything the parent checks after the kill.
 */
import { pino } from 'pino';
import { emptyUser } from '../../../daemon/model/user.js';
import type { Mutation } from '../../../daemon/plugins/api.js';
import { LevelStore } from '../../../plugins/storage/level/level-store.js';

const [location, perCommitArg] = process.argv.slice(2);
if (!location) throw new Error('usage: level-crash-writer <location> <users-per-commit>');
const perCommit = Number(perCommitArg ?? '1');

function userId(n: number): string {
  return `user-${String(n).padStart(8, '0')}`;
}

const store = new LevelStore({ location, logger: pino({ level: 'silent' }) });
await store.start();
for (let n = store.currentSeq() / perCommit + 1; ; n++) {
  const mutations: Mutation[] = [];
  for (let k = 1; k <= perCommit; k++) {
    const user = emptyUser(userId((n - 1) * perCommit + k));
    // Some bulk, so that a kill can land inside a batch's write.
    user.fingers = [{ index: 0, flag: 0, templates: ['A'.repeat(512), 'B'.repeat(512)] }];
    mutations.push({ type: 'putUser', user, origin: { kind: 'import', file: 'crash.csv', format: 'csv' } });
  }
  mutations.push(
    { type: 'appendEvent', event: { kind: 'import.done', message: `commit ${n}`, detail: { n } } },
    { type: 'setCursor', deviceId: 1, seq: (n - 1) * perCommit },
    { type: 'putDevice', device: { id: 1, source: 'config', lastEventId: n } },
  );
  await store.commit(mutations);
  process.stdout.write(`${n}\n`);
}
