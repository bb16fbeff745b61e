/**
 * The parse worker's entry (a worker_threads module): reads one CSV with row-source.ts and
 * posts its events to the watcher in chunks, as JSON text (one JSON.parse on the other
 * side costs less than a structured clone of the same records). At most `credits` chunks
 * are in flight: the watcher returns a credit for each chunk it has handed on, so a file
 * never piles up in memory ahead of the commits.
 *
 * Messages to the watcher: a string (a JSON array of RowEvents, in file order; the last
 * chunk ends with the `end` event), or `{ error }` once, after every chunk before it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isRollcallError } from '../../../daemon/errors.js';
import { csvRowEvents, type RowEvent, type RowSourceOptions } from './row-source.js';

export interface ParseWorkerData {
  source: RowSourceOptions;
  /** A chunk is posted once it holds this many records (or twice as many events). */
  chunkRecords: number;
  /** Chunks that may be in flight before the worker waits for a credit. */
  credits: number;
}

/** An error as it crosses the thread boundary: the watcher rebuilds a RollcallError from it. */
export interface WorkerFailure {
  message: string;
  code?: string;
  detail?: Record<string, unknown>;
  rollcall: boolean;
}

async function run(port: NonNullable<typeof parentPort>, data: ParseWorkerData): Promise<void> {
  let credits = data.credits;
  let wake: (() => void) | undefined;
  port.on('message', () => {
    credits++;
    wake?.();
  });
  let chunk: RowEvent[] = [];
  let records = 0;
  const post = async (): Promise<void> => {
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    credits--;
    port.postMessage(JSON.stringify(chunk));
    chunk = [];
    records = 0;
  };
  try {
    for await (const event of csvRowEvents(data.source)) {
      chunk.push(event);
      if (event.kind === 'record') records++;
      if (event.kind === 'header' || records >= data.chunkRecords || chunk.length >= 2 * data.chunkRecords) await post();
    }
    if (chunk.length > 0) await post();
  } catch (error) {
    if (chunk.length > 0) await post();
    port.postMessage({ error: failureOf(error) });
  }
  // Nothing more to wait for: the worker ends once its last messages are out.
  port.removeAllListeners('message');
}

function failureOf(error: unknown): WorkerFailure {
  if (isRollcallError(error)) return { message: error.message, code: error.code, ...(error.detail ? { detail: error.detail } : {}), rollcall: true };
  const code = (error as { code?: unknown } | undefined)?.code;
  return { message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}), rollcall: false };
}

if (parentPort !== null) void run(parentPort, workerData as ParseWorkerData);
