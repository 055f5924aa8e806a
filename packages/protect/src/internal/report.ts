/** Where a failure that must not throw (an event listener, a publication hook) is reported. */
export type ErrorReporter = (error: unknown, context: ErrorContext) => void;

/** What was being done when a reported error happened. */
export interface ErrorContext {
  /** `event`, `checkpoint`, `publish`, `provenance`, … */
  operation: string;
  /** The bus event being recorded, if any. */
  event?: string;
}

/** Calls `onError` without letting it throw; without one, emits a process warning (never silent). */
export function reportError(onError: ErrorReporter | undefined, error: unknown, context: ErrorContext): void {
  if (onError) {
    try {
      onError(error, context);
      return;
    } catch (inner) {
      error = inner;
    }
  }
  const err = error instanceof Error ? error : new Error(String(error));
  process.emitWarning(
    `Bursar protect: ${context.operation}${context.event ? ` (${context.event})` : ''} failed: ${err.message}`,
    {
      code: 'BURSAR_PROTECT_ERROR',
      detail: err.stack,
    },
  );
}
