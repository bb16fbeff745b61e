/**
 * The daemon's logger: pino JSON lines on stdout (journald reads them under systemd), with
 * secrets censored before a line is written, and a log level that can change while running.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { RollcallError } from '../errors.js';

export const REDACTED = '[redacted]';

/**
 * Keys whose value is a secret wherever they sit in a logged object: PINs and their hashes,
 * biometric templates and images, photos, card serial numbers and card contents, passwords.
 * Both the model's names (pinHash, templates) and the G-SDK wire names (PIN, hashVal,
 * JPGImage, templateData) are listed, since a transport may log either shape. Matched
 * without regard to case ('Pin' in a CSV row is a PIN too), except as the top-level key of
 * a child's bindings, where pino matches the spellings listed here.
 */
export const SECRET_KEYS = [
  'pin',
  'PIN',
  'pinHash',
  'hashVal',
  'password',
  'templates',
  'irTemplates',
  'templateData',
  'imageData',
  'irImageData',
  'JPGImage',
  'photo',
  'csn',
  'smartCardData',
] as const;

const SECRET_KEYS_LOWER: ReadonlySet<string> = new Set(SECRET_KEYS.map((key) => key.toLowerCase()));

/** Keys whose object (or whose list's objects) is a card: its `data` is the card's bytes. */
const CARD_KEYS: ReadonlySet<string> = new Set(['card', 'cards', 'csncarddata']);

/** Past this depth a logged value is replaced: deeper than anything the daemon logs on purpose. */
const MAX_DEPTH = 12;

/**
 * The value with every secret replaced by REDACTED, at any depth and under any wrapper
 * (user, users[*], row, detail, err.detail.user, request.users[*], …). Objects without
 * secrets are returned as they are; the others are copied along the changed path only,
 * so the caller's object is never modified.
 */
export function censorSecrets(value: unknown): unknown {
  return censor(value, false, 0, new Set());
}

function censor(value: unknown, card: boolean, depth: number, path: Set<object>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (path.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  // An Error outside `err` would print as {}; serialize it the same way, then look inside.
  if (value instanceof Error) return censor(serializeError(value), card, depth, path);
  // Dates, Buffers and the like print through toJSON; typed arrays are bytes, not keys.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function' || ArrayBuffer.isView(value)) return value;
  path.add(value);
  try {
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      value.forEach((item, i) => {
        const censored = censor(item, card, depth + 1, path);
        if (censored !== item) (copy ??= value.slice())[i] = censored;
      });
      return copy ?? value;
    }
    let copy: Record<string, unknown> | undefined;
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const item = record[key];
      const lower = key.toLowerCase();
      const censored =
        SECRET_KEYS_LOWER.has(lower) || (card && lower === 'data')
          ? REDACTED
          : censor(item, CARD_KEYS.has(lower), depth + 1, path);
      if (censored !== item) (copy ??= { ...record })[key] = censored;
    }
    return copy ?? value;
  } finally {
    path.delete(value);
  }
}

/**
 * pino's redact configuration, for what the `log` formatter never sees: a child's bindings
 * (and objects interpolated into a message). pino runs every top-level value of those
 * through the '*' path's censor, which walks it to any depth; that censor is not told the
 * top-level key, so secrets sitting directly at the top level get named paths.
 */
function redactOptions(): { paths: string[]; censor: (value: unknown, path: unknown[]) => unknown } {
  return {
    paths: ['*', ...SECRET_KEYS, 'cards[*].data', 'card.data'],
    censor: (value, path) => (isSecretPath(path) ? REDACTED : censorSecrets(value)),
  };
}

/** Whether a redact path names a secret itself (['pin'], ['cards', '0', 'data']). */
function isSecretPath(path: unknown[]): boolean {
  const last = path[path.length - 1];
  if (typeof last !== 'string') return false;
  const lower = last.toLowerCase();
  if (SECRET_KEYS_LOWER.has(lower)) return true;
  if (lower !== 'data') return false;
  const owner = path
    .slice(0, -1)
    .filter((segment): segment is string => typeof segment === 'string' && !/^\d+$/.test(segment))
    .pop();
  return owner !== undefined && CARD_KEYS.has(owner.toLowerCase());
}

/** What an error looks like in a log line. */
export interface SerializedError {
  type: string;
  message: string;
  code?: string | number;
  stack?: string;
  detail?: unknown;
  cause?: SerializedError | unknown;
}

const MAX_CAUSE_DEPTH = 4;

/**
 * Keeps what an operator needs (type, stable code, message, stack, RollcallError detail and
 * the cause chain) and drops the rest: gRPC errors carry whole metadata maps, and arbitrary
 * enumerable fields are where secrets hide. Redaction still runs over the result.
 */
export function serializeError(value: unknown, depth = 0): SerializedError | unknown {
  if (!(value instanceof Error)) return value;
  const out: SerializedError = { type: value.name, message: value.message };
  const { code, detail } = value as { code?: unknown; detail?: unknown };
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (value.stack !== undefined) out.stack = value.stack;
  if (detail !== undefined) out.detail = detail;
  if (value.cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = serializeError(value.cause, depth + 1);
  return out;
}

/** The loggers created from one root, so a level change can reach children that own a level. */
class LoggerFamily {
  private readonly members = new Set<WeakRef<Logger>>();
  // Children are created per plugin, file and device; held weakly so the set never pins them.
  private readonly finalizer = new FinalizationRegistry<WeakRef<Logger>>((ref) => {
    this.members.delete(ref);
  });

  add(child: Logger): void {
    const ref = new WeakRef(child);
    this.members.add(ref);
    this.finalizer.register(child, ref);
  }

  /** Live loggers created (directly or not) from `ancestor`. */
  *descendantsOf(ancestor: Logger): Generator<Logger> {
    for (const ref of this.members) {
      const member = ref.deref();
      // pino builds a child with Object.create(parent): descent is the prototype chain.
      if (member !== undefined && Object.prototype.isPrototypeOf.call(ancestor, member)) yield member;
    }
  }
}

const familyKey = Symbol('rollcall.loggerFamily');

function familyOf(logger: Logger): LoggerFamily | undefined {
  return (logger as unknown as Record<symbol, LoggerFamily | undefined>)[familyKey];
}

function assertLevel(logger: Pick<Logger, 'levels'>, level: string): void {
  if (level === 'silent' || Object.prototype.hasOwnProperty.call(logger.levels.values, level)) return;
  const allowed = [...Object.keys(logger.levels.values), 'silent'];
  throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `unknown log level '${level}' (expected one of ${allowed.join(', ')})`, {
    detail: { level, allowed },
  });
}

export interface LoggerOptions {
  /** trace, debug, info, warn, error, fatal or silent. */
  level: string;
  /** Where lines go: a stream, or a file descriptor. Default: 1 (stdout). */
  destination?: DestinationStream | number;
}

export function createLogger(options: LoggerOptions): Logger {
  assertLevel(pino, options.level);
  const family = new LoggerFamily();
  const destination =
    typeof options.destination === 'number' || options.destination === undefined
      ? pino.destination(options.destination ?? 1)
      : options.destination;
  const logger = pino(
    {
      level: options.level,
      redact: redactOptions(),
      serializers: { err: serializeError },
      formatters: {
        // Labels ("info") read better than numbers in journalctl and log shippers.
        level: (label) => ({ level: label }),
        // Every logged object, whole: keys at the top level are seen here in any spelling.
        log: (object) => censorSecrets(object) as Record<string, unknown>,
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      onChild: (child) => family.add(child),
    },
    destination,
  );
  Object.defineProperty(logger, familyKey, { value: family });
  return logger;
}

/**
 * Sets the level of `logger` and of every logger created from it, including children made
 * before the change. pino children made without their own level read it from their parent
 * and follow at once; children made with `{ level }` (or given one later) own theirs, and
 * only the family record created by createLogger can reach them.
 */
export function setLogLevel(logger: Logger, level: string): void {
  assertLevel(logger, level);
  logger.level = level;
  const family = familyOf(logger);
  if (family === undefined) return;
  for (const descendant of family.descendantsOf(logger)) {
    if (Object.prototype.hasOwnProperty.call(descendant, pino.symbols.levelValSym)) descendant.level = level;
  }
}
