/**
 * What a client command prints and the code it exits with: its result as readable text or,
 * with --json, one JSON document on stdout; remarks and progress on stderr; a failure as
 * `rollcall: …` on stderr or `{"error": …}` on stdout, with its documented exit code.
 */
import { isRollcallError } from '../../errors.js';
import { AdminCallError, DaemonUnavailable, SocketPermissionDenied } from '../client.js';
import type { ErrorJson } from '../json-shapes.js';
import { ProgressDisplay } from '../progress.js';

/** Exit codes of the client commands (sysexits where one fits). */
export const ADMIN_EXIT = {
  OK: 0,
  /** The operation failed: a device check or sync failed, an import was refused, a user or device is unknown. */
  FAILURE: 1,
  /** Done, but not everything is as it should be: verify found differences, an import had failed rows. */
  DIFFERENCES: 2,
  /** Wrong usage, or a request the daemon refused as invalid (the message names the field). */
  USAGE: 64,
  /** An input file cannot be read. */
  NO_INPUT: 66,
  /** The daemon is not running (no socket, or nothing answers on it). */
  UNAVAILABLE: 69,
  /** The socket is there but this user may not use it. */
  NO_PERMISSION: 77,
  /** The config given with --config cannot be read. */
  CONFIG: 78,
  /** Interrupted (Ctrl-C) before the operation finished. */
  INTERRUPTED: 130,
} as const;

export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** A mistake in how the command was used, found after parsing. */
export class UsageError extends Error {}
/** An input file that cannot be read. */
export class InputError extends Error {}

export class Output {
  readonly json: boolean;
  readonly #stdout: OutStream;
  readonly #stderr: OutStream;
  readonly progress: ProgressDisplay;

  constructor(io: { stdout: OutStream; stderr: OutStream }, json: boolean) {
    this.#stdout = io.stdout;
    this.#stderr = io.stderr;
    this.json = json;
    this.progress = new ProgressDisplay(io.stderr, !json);
  }

  /** The command's result: its JSON shape, or readable text. */
  result(value: unknown, human: () => string): void {
    this.progress.stop();
    if (this.json) this.#stdout.write(`${JSON.stringify(value)}\n`);
    else {
      const text = human();
      if (text !== '') this.#stdout.write(`${text}\n`);
    }
  }

  /** One JSON line (streams: events --follow, users list --all). */
  raw(text: string): void {
    this.#stdout.write(text);
  }

  /** A remark for people, on stderr (never in --json output). */
  note(text: string): void {
    if (this.json) return;
    this.progress.stop();
    this.#stderr.write(`${text}\n`);
  }

  /** Prints why the command failed and returns its exit code. */
  fail(error: unknown): number {
    this.progress.stop();
    const { code, body } = describeFailure(error);
    if (this.json) this.#stdout.write(`${JSON.stringify(body)}\n`);
    else {
      this.#stderr.write(`rollcall: ${body.error.message}\n`);
      // The message spells out up to 10 issues; the rest are listed here.
      for (const issue of body.error.issues.slice(10)) this.#stderr.write(`  ${issue.message}\n`);
    }
    return code;
  }
}

function describeFailure(error: unknown): { code: number; body: ErrorJson } {
  const body = (status: string, message: string, extra: Partial<ErrorJson['error']> = {}): ErrorJson => ({ error: { code: null, status, message, issues: [], ...extra } });
  if (error instanceof DaemonUnavailable) return { code: ADMIN_EXIT.UNAVAILABLE, body: body('UNAVAILABLE', error.message) };
  if (error instanceof SocketPermissionDenied) return { code: ADMIN_EXIT.NO_PERMISSION, body: body('PERMISSION_DENIED', error.message) };
  if (error instanceof UsageError) return { code: ADMIN_EXIT.USAGE, body: body('USAGE', error.message) };
  if (error instanceof InputError) return { code: ADMIN_EXIT.NO_INPUT, body: body('INPUT', error.message) };
  if (error instanceof AdminCallError && error.grpcCodeName === 'PERMISSION_DENIED') {
    return { code: ADMIN_EXIT.NO_PERMISSION, body: body('PERMISSION_DENIED', error.message, { code: error.errorCode ?? null, issues: error.issues }) };
  }
  if (error instanceof AdminCallError) {
    const usage = error.grpcCodeName === 'INVALID_ARGUMENT' || error.grpcCodeName === 'RESOURCE_EXHAUSTED';
    const message = error.grpcCodeName === 'RESOURCE_EXHAUSTED' ? `the request is too large for the daemon (${error.message})` : error.message;
    return { code: usage ? ADMIN_EXIT.USAGE : ADMIN_EXIT.FAILURE, body: body(error.grpcCodeName, message, { code: error.errorCode ?? null, issues: error.issues }) };
  }
  if (isRollcallError(error, 'ROLLCALL_ERR_CONFIG_INVALID') || isRollcallError(error, 'ROLLCALL_ERR_CONFIG_NOT_FOUND')) {
    return { code: ADMIN_EXIT.CONFIG, body: body('CONFIG', error.message, { code: error.code }) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: ADMIN_EXIT.FAILURE, body: body('FAILED', message, { code: isRollcallError(error) ? error.code : null }) };
}
