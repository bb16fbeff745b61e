/** Reading users: get, getUsers, scans in byte order with paging, count; read argument checks. */
import assert from 'node:assert/strict';
import type { Mutation } from '../../../daemon/plugins/api.js';
import { collect, putUser, rejectsWith, user, utf8Sorted, type Harness } from './harness.js';

/** IDs whose UTF-8 byte order differs from JavaScript's default string order. */
const awkwardIds = ['b', 'a', 'A', 'é', '\u{1F600}', '\uFFFD', '\uE000', 'a!b', 'a b', '0', 'zz', 'a', '日本', 'a\u0000z'];

export function userTests({ it }: Harness): void {
  it('getUser returns the user as committed; getUsers keeps order, gaps and repeats', async ({ store }) => {
    const rich = user('1001', {
      name: 'Ada Lovelace',
      disabled: true,
      startTime: 1_700_000_000,
      endTime: 1_900_000_000,
      securityLevel: 3,
      cards: [{ type: 1, data: 'qrvM3Q==' }],
      fingers: [{ index: 0, flag: 1, templates: ['AAEC', 'AwQF'] }],
      faces: [{ index: 0, flag: 0x100, templates: ['Zm9v'], imageData: 'YmFy' }],
      accessGroups: [1, 2, 3],
      jobCodes: [{ code: 7, label: 'night' }],
      pinHash: 'c2hhMjU2',
      photo: 'cGhvdG8=',
      department: 'R&D',
      custom: { badge: '0042' },
    });
    await store.commit([{ type: 'putUser', user: rich, origin: { kind: 'admin', by: 'root' } }, putUser('1002')]);
    assert.deepEqual(await store.getUser('1001'), rich);
    assert.equal(await store.getUser('nope'), undefined);
    const got = await store.getUsers(['1002', 'nope', '1001', '1002']);
    assert.deepEqual(
      got.map((u) => u?.id),
      ['1002', undefined, '1001', '1002'],
    );
    assert.deepEqual(await store.getUsers([]), []);
  });

  it('a PIN hash keeps its provenance (pinHashScheme); a user without one reads back without one', async (subject) => {
    const withScheme = user('2001', { pinHash: Buffer.alloc(32, 7).toString('base64'), pinHashScheme: '0123456789abcdef' });
    const without = user('2002', { pinHash: Buffer.alloc(32, 8).toString('base64') });
    await subject.store.commit([putUser('2001', withScheme), putUser('2002', without)]);
    const store = subject.reopen ? await subject.reopen() : subject.store;
    const [a, b] = await store.getUsers(['2001', '2002']);
    assert.equal(a?.pinHashScheme, '0123456789abcdef');
    assert.ok(b !== undefined && !('pinHashScheme' in b));
    assert.deepEqual((await collect(store.scanUsers())).map((u) => u.pinHashScheme), ['0123456789abcdef', undefined]);
  });

  it('a put replaces the whole user', async ({ store }) => {
    await store.commit([putUser('a', { email: 'a@example.org', cards: [{ type: 1, data: 'AQ==' }] })]);
    await store.commit([putUser('a', { name: 'renamed' })]);
    const read = await store.getUser('a');
    assert.equal(read?.name, 'renamed');
    assert.equal(read?.email, undefined);
    assert.deepEqual(read?.cards, []);
  });

  it('scanUsers goes in UTF-8 byte order of IDs', async ({ store }) => {
    await store.commit(awkwardIds.map((id) => putUser(id)));
    const order = utf8Sorted([...new Set(awkwardIds)]);
    assert.deepEqual(
      (await collect(store.scanUsers())).map((u) => u.id),
      order,
    );
    assert.equal(await store.countUsers(), order.length);
  });

  it('scanUsers starts after `after` (present or not) and stops at `limit`', async ({ store }) => {
    await store.commit(awkwardIds.map((id) => putUser(id)));
    const order = utf8Sorted([...new Set(awkwardIds)]);
    for (let i = 0; i < order.length; i++) {
      assert.deepEqual(
        (await collect(store.scanUsers({ after: order[i]! }))).map((u) => u.id),
        order.slice(i + 1),
        `after ${JSON.stringify(order[i])}`,
      );
    }
    assert.deepEqual(
      (await collect(store.scanUsers({ after: 'a ' }))).map((u) => u.id),
      order.filter((id) => Buffer.compare(Buffer.from(id), Buffer.from('a ')) > 0),
    );
    assert.deepEqual(
      (await collect(store.scanUsers({ limit: 3 }))).map((u) => u.id),
      order.slice(0, 3),
    );
    assert.deepEqual(await collect(store.scanUsers({ limit: 0 })), []);
    assert.deepEqual(await collect(store.scanUsers({ after: '\u{10FFFF}' })), []);
  });

  it('paging a large set with after and limit visits every user once', async ({ store }) => {
    const ids: string[] = [];
    for (let batch = 0; batch < 5; batch++) {
      const mutations: Mutation[] = [];
      for (let i = 0; i < 120; i++) {
        const id = String((batch * 7919 + i * 104729) % 1_000_003);
        ids.push(id);
        mutations.push(putUser(id));
      }
      await store.commit(mutations);
    }
    const unique = utf8Sorted([...new Set(ids)]);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await collect(store.scanUsers(after === undefined ? { limit: 64 } : { after, limit: 64 }));
      if (page.length === 0) break;
      assert.ok(page.length <= 64);
      seen.push(...page.map((u) => u.id));
      after = page[page.length - 1]!.id;
    }
    assert.deepEqual(seen, unique);
    assert.equal(await store.countUsers(), unique.length);
  });

  it('a scan sees users committed while it runs, after its position', async ({ store }) => {
    await store.commit(['b', 'd', 'f'].map((id) => putUser(id)));
    const seen: string[] = [];
    for await (const u of store.scanUsers({ limit: 10 })) {
      seen.push(u.id);
      if (u.id === 'b') await store.commit([putUser('a'), putUser('c')]);
    }
    // Whether a scan sees a concurrent commit is up to the backend; it must never repeat
    // or go backwards.
    assert.deepEqual(seen, [...new Set(seen)]);
    assert.deepEqual(seen, utf8Sorted(seen));
    assert.ok(seen.includes('b') && seen.includes('d') && seen.includes('f'));
  });

  it('read calls refuse bad arguments with INVALID_ARGUMENT', async ({ store }) => {
    const s = store;
    // Calls as a JavaScript caller could make them, past the types.
    const loose = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const invalid = 'ROLLCALL_ERR_STORE_INVALID_ARGUMENT';
    const calls: [string, () => Promise<unknown>][] = [
      ['getUser empty', () => s.getUser('')],
      ['getUser number', () => loose['getUser']!(5)],
      ['getUsers not array', () => loose['getUsers']!('a')],
      ['getUsers number inside', () => loose['getUsers']!(['a', 1])],
      ['scanUsers negative limit', () => collect(store.scanUsers({ limit: -1 }))],
      ['scanUsers empty after', () => collect(store.scanUsers({ after: '' }))],
      ['changesSince negative', () => s.changesSince(-1)],
      ['changesSince fraction', () => s.changesSince(1.5)],
      ['changesSince NaN', () => s.changesSince(Number.NaN)],
      ['changesSince bad limit', () => s.changesSince(0, { limit: -2 })],
      ['waitForSeq negative', () => s.waitForSeq(-1)],
      ['pruneTombstones NaN', () => s.pruneTombstones(Number.NaN)],
      ['pruneTombstones string', () => loose['pruneTombstones']!('yesterday')],
      ['cursor negative', () => s.cursor(-1)],
      ['cursor string', () => loose['cursor']!('1')],
      ['getDevice fraction', () => s.getDevice(1.5)],
      ['getImport empty', () => s.getImport('')],
      ['listImports bad state', () => loose['listImports']!({ state: 'paused' })],
      ['queryEvents bad limit', () => s.queryEvents({ limit: 1.5 })],
      ['queryEvents empty kind', () => s.queryEvents({ kind: '' })],
      ['queryEvents NaN since', () => s.queryEvents({ since: Number.NaN })],
      ['queryEvents negative device', () => s.queryEvents({ deviceId: -1 })],
      ['queryEvents negative afterId', () => s.queryEvents({ afterId: -1 })],
      ['queryEvents not an object', () => loose['queryEvents']!('all')],
    ];
    for (const [name, call] of calls) await rejectsWith(call(), invalid, name);
  });
}
