/** Where non-fatal failures go when the user gave no `onError`: a process warning, never silence. */
export function defaultOnError(error: unknown, context: string): void {
  const err = error instanceof Error ? error : new Error(String(error));
  process.emitWarning(`Bursar observe: ${context}: ${err.message}`, {
    code: 'BURSAR_OBSERVE_ERROR',
    detail: err.stack,
  });
}

/** Calls `onError` without ever letting it throw into the caller. */
export function safeReport(
  onError: (error: unknown, context: string) => void,
  error: unknown,
  context: string,
): void {
  try {
    onError(error, context);
  } catch (nested) {
    defaultOnError(nested, `onError handler failed while reporting "${context}"`);
  }
}
