import { BursarError, ErrorCode, type Reason, type RiskSignal, type RiskSignalProvider } from '@bursar/core';

const ESCALATIONS = new Set(['flag', 'require_approval', 'deny']);

/**
 * Turns a provider's signals into reasons. A provider may only escalate: a signal whose
 * outcome is not flag, require_approval or deny is a provider bug, reported as an error (the
 * engine then fails closed).
 */
export function signalReasons(provider: RiskSignalProvider, signals: readonly RiskSignal[]): Reason[] {
  if (!Array.isArray(signals)) {
    throw new BursarError(
      ErrorCode.INTERNAL,
      `Risk provider ${provider.name} returned ${typeof signals}, not an array`,
    );
  }
  return signals.map((s) => {
    if (!s || typeof s.code !== 'string' || !ESCALATIONS.has(s.outcome)) {
      throw new BursarError(
        ErrorCode.INTERNAL,
        `Risk provider ${provider.name} returned an invalid signal (outcome must be flag, require_approval or deny)`,
      );
    }
    return {
      code: s.code,
      message: typeof s.message === 'string' ? s.message : s.code,
      outcome: s.outcome,
      source: 'signal' as const,
      details: {
        provider: provider.name,
        ...(s.score !== undefined ? { score: s.score } : {}),
        ...(s.details ?? {}),
      },
    };
  });
}
