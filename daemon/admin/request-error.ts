/**
 * Why an admin request was refused, in terms the server turns into a gRPC status and the
 * CLI into an exit code. Messages name the field and never quote a secret.
 */
import { RollcallError, type ErrorCode } from '../errors.js';

/** One problem with a request, named by its field ('users[0].name', 'deviceId', 'level'). */
export interface RequestIssue {
  field: string;
  /** A stable rule name ('type', 'required', 'unknown', 'max-chars', ... or validateUser's rules). */
  rule: string;
  message: string;
  /** In a request about several users: which one (its ID as sent, and its position). */
  userId?: string;
  index?: number;
}

/**
 * invalid: the request is wrong (INVALID_ARGUMENT); not-found: it names a user, device or
 * location that does not exist (NOT_FOUND); not-running: the part it needs is not running
 * (FAILED_PRECONDITION).
 */
export type RefusalKind = 'invalid' | 'not-found' | 'not-running';

export class AdminRequestError extends RollcallError {
  readonly kind: RefusalKind;
  readonly issues: RequestIssue[];

  constructor(kind: RefusalKind, message: string, options: { issues?: RequestIssue[]; code?: ErrorCode } = {}) {
    const issues = options.issues ?? [];
    super(options.code ?? 'ROLLCALL_ERR_ADMIN_REQUEST', message, { detail: { kind, issues } });
    this.name = 'AdminRequestError';
    this.kind = kind;
    this.issues = issues;
  }
}

/** INVALID_ARGUMENT with every issue spelled out in the message (at most `max`). */
export function invalidRequest(issues: RequestIssue[], prefix?: string, max = 10): AdminRequestError {
  const shown = issues.slice(0, max).map((issue) => issue.message);
  if (issues.length > max) shown.push(`and ${issues.length - max} more`);
  const text = shown.join('; ');
  return new AdminRequestError('invalid', prefix ? `${prefix}: ${text}` : text, { issues });
}

export function invalidField(field: string, rule: string, text: string): AdminRequestError {
  return invalidRequest([{ field, rule, message: `${field}: ${text}` }]);
}

export function notFound(field: string, text: string): AdminRequestError {
  return new AdminRequestError('not-found', `${field}: ${text}`, { issues: [{ field, rule: 'not-found', message: `${field}: ${text}` }] });
}

export function notRunning(text: string): AdminRequestError {
  return new AdminRequestError('not-running', text, { code: 'ROLLCALL_ERR_PLUGIN_FAILED' });
}

export const ADMIN_FORBIDDEN_ERROR = 'ROLLCALL_ERR_ADMIN_FORBIDDEN' as const;

/** The caller may not call this method (PERMISSION_DENIED): see access.ts. */
export class AdminForbiddenError extends RollcallError {
  constructor(message: string) {
    super(ADMIN_FORBIDDEN_ERROR, message);
    this.name = 'AdminForbiddenError';
  }
}
