/**
 * Runs async tasks one at a time per key, in call order; tasks of different keys run freely. A
 * failed task does not stop the ones after it. When a key is idle, its task starts at once (its
 * synchronous part runs inside `run`), and an idle key keeps no memory.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, { tail: Promise<unknown>; pending: number }>();

  /** Queues `task` behind the other tasks of `key` and resolves with its result. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const slot = this.#tails.get(key);
    let result: Promise<T>;
    if (slot === undefined) {
      result = invoke(task);
      const fresh = { tail: result as Promise<unknown>, pending: 1 };
      this.#tails.set(key, fresh);
      this.#settle(key, fresh, result);
    } else {
      result = slot.tail.then(
        () => task(),
        () => task(),
      );
      slot.pending++;
      slot.tail = result;
      this.#settle(key, slot, result);
    }
    return result;
  }

  /** How many keys have a task queued or running. */
  get size(): number {
    return this.#tails.size;
  }

  #settle(key: string, slot: { pending: number }, result: Promise<unknown>): void {
    const done = (): void => {
      if (--slot.pending === 0 && this.#tails.get(key) === slot) this.#tails.delete(key);
    };
    result.then(done, done);
  }
}

/** Calls `task`, turning a synchronous throw into a rejection. */
function invoke<T>(task: () => Promise<T>): Promise<T> {
  try {
    return task();
  } catch (error) {
    return Promise.reject(error);
  }
}
