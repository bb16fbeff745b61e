/**
 * The fan-out's shortcuts with the real parts (LevelDB, the simulator over gRPC): pages read
 * ahead and shared, users encoded once per object and device copy, one plan for devices placed
 * alike. Edits and deletes committed while a fan-out of several batches runs must still end on
 * every device as stored: nothing read or encoded ahead may send an older version last.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncHarness, makeUser } from '../../helpers/sync-harness.js';
import { CardType, type User } from '../../../daemon/model/user.js';
import { deviceCopy } from '../../../daemon/model/device-copy.js';
import { deviceProjectionHash } from '../../../daemon/model/projection.js';

const card = (n: number) => ({ type: CardType.CSN, data: Buffer.alloc(32, n % 250).toString('base64') });
const carded = (n: number, name = `User ${n}`): User => makeUser(String(n), { name, cards: [card(n)] });

// 1001 and 1002 alike; 1003 has no card reader, so it gets copies without the card.
const FLEET = [{ id: 1001 }, { id: 1002 }, { id: 1003, maxCardsPerUser: 0 }];

class PipelineHarness extends SyncHarness {
  /** Whether the device holds exactly `ids`, each as its copy of the stored user. */
  async holdsStored(deviceId: number, ids: readonly string[]): Promise<boolean> {
    const held = this.onDevice(deviceId);
    if (held.size !== ids.length) return false;
    const { holds = {} } = await this.transport.deviceProfile(deviceId);
    for (const id of ids) {
      const stored = await this.store.getUser(id);
      const theirs = held.get(id);
      if (!stored || !theirs || deviceProjectionHash(deviceCopy(stored, holds).copy) !== deviceProjectionHash(theirs)) return false;
    }
    return true;
  }
}

test('edits and deletes committed during a fan-out of several batches end on every device as stored, each device with its copy', async () => {
  const h = await PipelineHarness.start({ devices: FLEET, followEvents: false, sync: { batch: { maxUsers: 100, maxBytes: 4_000_000 } } });
  try {
    await h.until('initial checks', () => h.engine.status().every((d) => d.lastCheck !== undefined));
    const count = 1000;
    await h.put(...Array.from({ length: count }, (_, i) => carded(i + 1)));
    // While the ten batches go out: three rounds of edits of users of every batch, and deletes.
    for (let round = 1; round <= 3; round++) {
      await h.put(...Array.from({ length: 50 }, (_, i) => carded(i * 20 + round, `Edited ${round}`)));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await h.remove(...Array.from({ length: 20 }, (_, i) => String(i * 50 + 7)));
    const expected = Array.from({ length: count }, (_, i) => String(i + 1)).filter((id) => (Number(id) - 7) % 50 !== 0);
    const head = h.store.currentSeq();
    await h.until('every device at the head', () => h.engine.status().every((d) => d.cursor >= head), 60_000);
    for (const { id } of FLEET) assert.ok(await h.holdsStored(id, expected), `device ${id} holds its copy of every stored user`);
    // Read at the devices: the last edit of each user, and the card only where there is a reader.
    for (const { id } of FLEET) {
      const held = h.onDevice(id);
      assert.equal(held.get('3')?.name, 'Edited 3');
      assert.equal(held.get('22')?.name, 'Edited 2');
      assert.equal(held.get('981')?.name, 'Edited 1');
      assert.equal(held.get('4')?.name, 'User 4');
      assert.equal(held.has('57'), false);
      assert.equal(held.get('1')?.cards.length, id === 1003 ? 0 : 1);
    }
    // A second edit after the fan-out reaches every device too (a new object, a new encoding).
    const seq = await h.put(carded(1, 'Edited later'), carded(2, 'Edited later'));
    await h.until('the later edit acknowledged', () => h.engine.status().every((d) => d.cursor >= seq));
    for (const { id } of FLEET) {
      assert.equal(h.onDevice(id).get('1')?.name, 'Edited later');
      assert.equal(h.onDevice(id).get('2')?.name, 'Edited later');
    }
  } finally {
    await h.stop();
  }
});
