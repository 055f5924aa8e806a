const BURSAR_ERROR = Symbol.for('bursar.error');

/** Stable error codes. Codes never change meaning once published. */
export const ErrorCode = {
  INVALID_AMOUNT: 'ERR_BURSAR_INVALID_AMOUNT',
  UNKNOWN_ASSET: 'ERR_BURSAR_UNKNOWN_ASSET',
  ASSET_MISMATCH: 'ERR_BURSAR_ASSET_MISMATCH',
  INVALID_ASSET: 'ERR_BURSAR_INVALID_ASSET',
  INVALID_INTENT: 'ERR_BURSAR_INVALID_INTENT',
  INVALID_ARGUMENT: 'ERR_BURSAR_INVALID_ARGUMENT',
  INVALID_POLICY: 'ERR_BURSAR_INVALID_POLICY',
  INVALID_OPTIONS: 'ERR_BURSAR_INVALID_OPTIONS',
  NOT_CANONICAL: 'ERR_BURSAR_NOT_CANONICAL',
  IDEMPOTENCY_CONFLICT: 'ERR_BURSAR_IDEMPOTENCY_CONFLICT',
  IDEMPOTENCY_IN_PROGRESS: 'ERR_BURSAR_IDEMPOTENCY_IN_PROGRESS',
  HOLD_NOT_FOUND: 'ERR_BURSAR_HOLD_NOT_FOUND',
  HOLD_NOT_ACTIVE: 'ERR_BURSAR_HOLD_NOT_ACTIVE',
  CAPTURE_EXCEEDS_HOLD: 'ERR_BURSAR_CAPTURE_EXCEEDS_HOLD',
  NOT_FOUND: 'ERR_BURSAR_NOT_FOUND',
  CONFLICT: 'ERR_BURSAR_CONFLICT',
  STORE: 'ERR_BURSAR_STORE',
  UNAUTHORIZED: 'ERR_BURSAR_UNAUTHORIZED',
  POLICY_DENIED: 'ERR_BURSAR_POLICY_DENIED',
  APPROVAL: 'ERR_BURSAR_APPROVAL',
  INTERNAL: 'ERR_BURSAR_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One problem found while validating input: where, and what is wrong. */
export interface ValidationIssue {
  /** Dotted path to the offending field (`''` for the value itself). */
  path: string;
  message: string;
}

export interface BursarErrorOptions {
  cause?: unknown;
  /** Structured facts about the failure (never secrets). */
  details?: Record<string, unknown>;
  /** HTTP status an HTTP-facing integration should answer with. */
  status?: number;
  issues?: ValidationIssue[];
}

/**
 * The one base error of every Bursar package. Match on `code`, never on the message.
 *
 * @example
 * try { parseMoney('1.001', 'USD'); } catch (e) {
 *   if (BursarError.isInstance(e) && e.code === 'ERR_BURSAR_INVALID_AMOUNT') { … }
 * }
 */
export class BursarError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly status: number | undefined;
  readonly issues: ValidationIssue[];
  readonly [BURSAR_ERROR] = true;

  constructor(code: string, message: string, options: BursarErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BursarError';
    this.code = code;
    this.details = options.details ?? {};
    this.status = options.status;
    this.issues = options.issues ?? [];
  }

  /** True for any Bursar error, even one thrown by a second copy of this package. */
  static isInstance(value: unknown): value is BursarError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as { [BURSAR_ERROR]?: unknown })[BURSAR_ERROR] === true
    );
  }

  /** True when `value` is a Bursar error with this code. */
  static hasCode(value: unknown, code: string): value is BursarError {
    return BursarError.isInstance(value) && value.code === code;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.issues.length > 0 ? { issues: this.issues } : {}),
      ...(Object.keys(this.details).length > 0 ? { details: this.details } : {}),
    };
  }
}

/** Input failed validation; `issues` names every field and problem. */
export class ValidationError extends BursarError {
  constructor(code: string, message: string, issues: ValidationIssue[], options: BursarErrorOptions = {}) {
    super(code, message, { status: 400, ...options, issues });
    this.name = 'ValidationError';
  }
}

/** Formats zod issues (or anything with `path` + `message`) into Bursar issues. */
export function toIssues(
  zodIssues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): ValidationIssue[] {
  return zodIssues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/** One-line summary of issues, e.g. `amount: must be a decimal; currency: required`. */
export function describeIssues(issues: ReadonlyArray<ValidationIssue>): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}
