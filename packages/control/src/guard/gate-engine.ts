import { BursarError, ErrorCode } from '@bursar/core';
import type { PolicyEngine } from '../engine/index.js';

/** The engine methods integrations use (a `PolicyEngine` has them all). */
export type GateEngine = Pick<PolicyEngine, 'parseIntent' | 'authorize' | 'capture' | 'release' | 'getHold'>;

const METHODS = ['parseIntent', 'authorize', 'capture', 'release', 'getHold'] as const;

/** True for a `PolicyEngine` (or an object with the same methods). */
export function isGateEngine(value: unknown): value is GateEngine {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return METHODS.every((m) => typeof v[m] === 'function');
}

/** Reports an integration error to `onError`; a throwing logger never changes the outcome. */
export type ErrorReporter = (error: unknown, context: { operation: string }) => void;

/** The default reporter: a process warning, so nothing fails silently. */
export const warnReporter: ErrorReporter = (error, context) => {
  const what = BursarError.isInstance(error)
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error);
  process.emitWarning(`Bursar ${context.operation} failed: ${what}`, { code: 'BURSAR_INTEGRATION' });
};

/** Calls a reporter without letting it throw. */
export function report(reporter: ErrorReporter, error: unknown, operation: string): void {
  try {
    reporter(error, { operation });
  } catch {
    // A failing logger must not change what happens.
  }
}

/** Releases a hold, ignoring "already resolved" (another party may have released it first). */
export async function releaseQuietly(
  engine: GateEngine,
  holdId: string | undefined,
  reporter: ErrorReporter,
  operation: string,
): Promise<boolean> {
  if (holdId === undefined) return false;
  try {
    await engine.release(holdId);
    return true;
  } catch (error) {
    if (!BursarError.hasCode(error, ErrorCode.HOLD_NOT_ACTIVE)) report(reporter, error, operation);
    return false;
  }
}
