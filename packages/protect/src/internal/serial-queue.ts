/**
 * Runs async tasks one at a time, in call order. A failed task does not stop the ones after it.
 * When idle, a task starts at once (no extra hop), which keeps an uncontended append cheap.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #running = 0;
  readonly #done = (): void => {
    this.#running--;
  };

  /** True when no task is queued or running. */
  get idle(): boolean {
    return this.#running === 0;
  }

  /** Queues `task` (an async function) and resolves with its result. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#running === 0 ? task() : this.#tail.then(task);
    this.#running++;
    this.#tail = result.then(this.#done, this.#done);
    return result;
  }
}
