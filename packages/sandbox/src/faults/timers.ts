/**
 * Real, short timers for injected latency that a mock cancels all at once on close, so no
 * test leaves a timer running. A cancelled sleep resolves `false`.
 */
export class Timers {
  readonly #pending = new Map<NodeJS.Timeout, (done: boolean) => void>();
  #closed = false;

  /** Waits `ms` (0 → resolves at once). Resolves `true` when the time passed, `false` when cancelled. */
  sleep(ms: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(timer);
        resolve(true);
      }, ms);
      this.#pending.set(timer, resolve);
    });
  }

  /** Number of sleeps still running. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Cancels every pending sleep; later sleeps resolve `false` at once. */
  cancelAll(): void {
    this.#closed = true;
    for (const [timer, resolve] of this.#pending) {
      clearTimeout(timer);
      resolve(false);
    }
    this.#pending.clear();
  }
}
