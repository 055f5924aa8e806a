/**
 * Runs `work` with a deadline. On expiry rejects with `onTimeout()`; the timer is always
 * cleared, so nothing is left running. The work itself cannot be cancelled and may still
 * complete: callers treat a timed-out settle as an unknown outcome.
 */
export function withTimeout<T>(work: Promise<T>, ms: number | undefined, onTimeout: () => Error): Promise<T> {
  if (ms === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
