/** User summaries: always those of the committed records, across puts, replacements, deletes, one commit naming a user twice, and a reopen. */
import assert from 'node:assert/strict';
import { summarizeUser, type UserSummary } from '../../../daemon/model/user-summary.js';
import type { Store } from '../../../daemon/plugins/api.js';
import { collect, deleteUser, putUser, user, type Harness } from './harness.js';

/** Every summary the store gives, its pages joined. */
async function summariesOf(store: Store): Promise<UserSummary[]> {
  return (await collect(store.scanUserSummaries())).flat();
}

/** What the summaries must be: those of the records scanUsers gives, in the same order. */
async function summariesAgree(store: Store, message: string): Promise<void> {
  const expected = (await collect(store.scanUsers())).map(summarizeUser);
  assert.deepEqual(await summariesOf(store), expected, message);
}

export function summaryTests({ it }: Harness): void {
  it('scanUserSummaries follows every commit, delete and reopen', async (subject) => {
    const { store } = subject;
    assert.deepEqual(await summariesOf(store), [], 'an empty store has none');
    const face = { index: 0, flag: 0x100, templates: ['Zm9v'] };
    const irFace = { index: 1, flag: 0, templates: ['YmFy'] };
    await store.commit([
      putUser('10', { cards: [{ type: 1, data: 'AQ==' }], accessGroups: [3, 1], pinHash: Buffer.alloc(32, 1).toString('base64'), pinHashScheme: 'abc1' }),
      putUser('11', { fingers: [{ index: 0, flag: 0, templates: ['AAEC', 'AwQF'] }], faces: [face, irFace] }),
      putUser('x-1'),
      // Breaks a rule besides its ID's: 9 cards.
      putUser('12', { cards: Array.from({ length: 9 }, () => ({ type: 1, data: 'AQ==' })) }),
    ]);
    await summariesAgree(store, 'after the first commit');
    const [ten, eleven, twelve, alnum] = await summariesOf(store);
    assert.deepEqual(
      { cards: ten!.cards, pin: ten!.pin, scheme: ten!.pinHashScheme, groups: ten!.accessGroups, sound: ten!.sound },
      { cards: 1, pin: true, scheme: 'abc1', groups: [3, 1], sound: true },
    );
    assert.deepEqual({ fingers: eleven!.fingers, faces: eleven!.faces, visual: eleven!.visualFaces }, { fingers: 1, faces: 2, visual: 1 });
    assert.equal(twelve!.sound, false, 'nine cards break a rule');
    assert.deepEqual({ numeric: alnum!.numericId, alphanumeric: alnum!.alphanumericId }, { numeric: false, alphanumeric: true });

    await store.commit([putUser('10', { name: 'Replaced' }), deleteUser('11'), putUser('13', { cards: [{ type: 1, data: 'Ag==' }] }), deleteUser('13'), putUser('13')]);
    await summariesAgree(store, 'after a replace, a delete, and a user put, deleted and put again in one commit');
    assert.deepEqual((await summariesOf(store)).map((s) => s.id), ['10', '12', '13', 'x-1']);
    assert.equal((await summariesOf(store))[0]!.cards, 0, 'a replaced user has the summary of its new record');

    await store.commit([deleteUser('12'), deleteUser('never-there')]);
    await summariesAgree(store, 'after deletes');
    if (subject.reopen) {
      const reopened = await subject.reopen();
      await summariesAgree(reopened, 'after a reopen');
      assert.equal((await summariesOf(reopened)).length, 3);
    }
  });
}
