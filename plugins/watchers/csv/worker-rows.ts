/**
 * The row events of one CSV (row-source.ts), read and mapped in a worker thread
 * (parse-worker.ts) so that parsing, mapping and checking cells do not share the daemon's
 * event loop with the commits and the fan-out to the devices. Events come in file order,
 * as the worker posted them; a chunk's credit goes back once its events were handed on,
 * so at most a few chunks are ever held. The worker is ended when the caller stops
 * reading (a refusal, a store error, the signal) and when the file is done.
 */
import { Worker } from 'node:worker_threads';
import { RollcallError, type ErrorCode } from '../../../daemon/errors.js';
import type { ParseWorkerData, WorkerFailure } from './parse-worker.js';
import type { RowEvent, RowSourceOptions } from './row-source.js';

/** Chunks in flight between the worker and the watcher: one being handed on, one being read. */
const CREDITS = 2;
/**
 * The worker's heap, in MiB. Its objects live for one row (the reader holds one record of
 * at most 64 KiB, a chunk is text once posted), so a small young generation does: it is
 * part of the daemon's resident size for the whole import. The old generation's cap is
 * far above what it holds; it only stops a runaway.
 */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 };

type Message = string | { error: WorkerFailure };

export async function* workerRowEvents(source: RowSourceOptions, chunkRecords: number, signal: AbortSignal): AsyncGenerator<RowEvent> {
  signal.throwIfAborted();
  const data: ParseWorkerData = { source, chunkRecords, credits: CREDITS };
  const worker = new Worker(new URL('./parse-worker.js', import.meta.url), { workerData: data, resourceLimits: WORKER_HEAP });
  const inbox: Message[] = [];
  let failure: unknown;
  let exited: number | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  worker.on('message', (message: Message) => {
    inbox.push(message);
    poke();
  });
  worker.on('error', (error) => {
    failure ??= error;
    poke();
  });
  worker.on('exit', (code) => {
    exited = code;
    poke();
  });
  signal.addEventListener('abort', poke);
  try {
    for (;;) {
      while (inbox.length === 0 && failure === undefined && exited === undefined && !signal.aborted) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      signal.throwIfAborted();
      const message = inbox.shift();
      if (message === undefined) {
        if (failure !== undefined) throw failure;
        throw new Error(`the CSV parse worker stopped before the end of the file (exit code ${exited})`);
      }
      if (typeof message !== 'string') throw rebuilt(message.error);
      const events = JSON.parse(message) as RowEvent[];
      for (const event of events) {
        signal.throwIfAborted();
        yield event;
        if (event.kind === 'end') return;
      }
      worker.postMessage('credit');
    }
  } finally {
    signal.removeEventListener('abort', poke);
    await worker.terminate();
  }
}

function rebuilt(failure: WorkerFailure): Error {
  if (failure.rollcall) return new RollcallError(failure.code as ErrorCode, failure.message, failure.detail ? { detail: failure.detail } : undefined);
  return Object.assign(new Error(failure.message), failure.code === undefined ? {} : { code: failure.code });
}
