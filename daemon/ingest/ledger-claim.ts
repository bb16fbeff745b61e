/**
 * The import ledger shared by several instances (issue 16): each instance has its own drop
 * folder, and the same file dropped at two of them is imported once. Starting (or resuming)
 * an import claims the content's ledger record in one commit that applies only if the
 * record is still the one read (CommitOptions.claim, checked inside the commit); the loser
 * waits while the winner, a live instance, runs it, then finds it done (a duplicate) or
 * failed (imported again). A running import whose instance is gone is resumed from its
 * checkpoint by whoever holds the same content: the rows are the same.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { isRollcallError } from '../errors.js';
import type { ImportRecord, Store } from '../plugins/api.js';

/** How often a file waiting for another instance's import of its content looks again. */
const LOOK_AGAIN_MS = 1000;

/**
 * The ledger's record of `hash` once no other live instance runs an import of it (undefined:
 * never imported). Rejects with the signal's reason when stopped meanwhile.
 */
export async function ledgerRecordFree(store: Store, instanceId: string | undefined, hash: string, logger: Logger, signal: AbortSignal): Promise<ImportRecord | undefined> {
  let told = false;
  for (;;) {
    const record = await store.getImport(hash);
    if (record?.state !== 'running' || record.claimedBy === undefined || record.claimedBy === instanceId) return record;
    const { instances } = await store.leases.list();
    if (!instances.some((i) => i.id === record.claimedBy && i.live)) {
      logger.info({ claimedBy: record.claimedBy, checkpoint: record.checkpoint }, `instance ${record.claimedBy} stopped while importing this content; resuming it here`);
      return record;
    }
    if (!told) logger.info({ claimedBy: record.claimedBy }, `instance ${record.claimedBy} is importing the same content; waiting for it`);
    told = true;
    await sleep(LOOK_AGAIN_MS, undefined, { signal });
  }
}

/**
 * Commits `record` (state running, claimed by this instance) if the ledger still holds
 * `expected`; false when another instance claimed the content first.
 */
export async function claimImport(store: Store, record: ImportRecord, expected: ImportRecord | undefined): Promise<boolean> {
  const expect = expected === undefined ? undefined : { state: expected.state, startedAt: expected.startedAt, ...(expected.claimedBy === undefined ? {} : { claimedBy: expected.claimedBy }) };
  try {
    await store.commit([{ type: 'putImport', record }], { claim: { hash: record.hash, expect } });
    return true;
  } catch (error) {
    if (isRollcallError(error, 'ROLLCALL_ERR_IMPORT_CLAIMED')) return false;
    throw error;
  }
}
