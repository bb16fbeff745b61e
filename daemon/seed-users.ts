/**
 * The example users of the config (`seed.users`), committed into an empty database on a
 * first run or a demo; a database that has any user is left alone.
 */
import type { Logger } from 'pino';
import type { Mutation, Store } from './plugins/api.js';
import type { RollcallConfig } from './config/schema.js';
import { CardType, emptyUser } from './model/user.js';
import { csnToCardData } from './model/csn.js';

/** Commits `seeds` into `store` when it has no users; does nothing otherwise. */
export async function seedUsers(store: Store, seeds: RollcallConfig['seed']['users'], logger: Logger): Promise<void> {
  if (seeds.length === 0 || (await store.countUsers()) > 0) return;
  const mutations: Mutation[] = seeds.map((seed) => ({
    type: 'putUser',
    user: {
      ...emptyUser(seed.id),
      name: seed.name,
      accessGroups: seed.accessGroups,
      cards: seed.csn ? [{ type: CardType.CSN, data: csnToCardData(BigInt(seed.csn)) }] : [],
    },
    origin: { kind: 'server', by: 'seed' },
  }));
  mutations.push({ type: 'appendEvent', event: { kind: 'user.seed', message: `${seeds.length} seed users added to the empty database`, detail: { users: seeds.length } } });
  await store.commit(mutations);
  logger.info({ users: seeds.length }, `the database was empty: added ${seeds.length} seed users from the config`);
}
