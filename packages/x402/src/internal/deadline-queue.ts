import { LinkedList } from './linked-list.js';

/** One call waiting for its result or its deadline. */
interface Waiter {
  /** `performance.now()` when the call times out. */
  readonly due: number;
  readonly reject: (error: Error) => void;
  prev: Waiter | undefined;
  next: Waiter | undefined;
  /** Settled: by its result or by its deadline (whichever came first; the other is ignored). */
  done: boolean;
}

/** Timers fire on a millisecond loop clock: a call within this of its deadline has reached it. */
const SLACK_MS = 1;

/**
 * Deadlines for calls that all share one duration, on one timer. A timer per call (`setTimeout`
 * + `clearTimeout`) costs a timer object, a closure and a timer-list insert and removal on every
 * call; here a call costs a small record in a FIFO list (equal durations expire in the order
 * they started). The one timer is re-armed only when it fires, and it keeps the process alive
 * only while a call waits. A call's work cannot be cancelled and may still complete after its
 * deadline: callers treat a timed-out settle as an unknown outcome.
 */
export class DeadlineQueue {
  readonly #ms: number;
  readonly #onTimeout: () => Error;
  /** Waiting calls in the order they started, which is also the order they fall due. */
  readonly #waiting = new LinkedList<Waiter>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the timer keeps the process alive (only while a call waits). */
  #refed = false;

  constructor(ms: number, onTimeout: () => Error) {
    this.#ms = ms;
    this.#onTimeout = onTimeout;
  }

  /** Calls waiting now (for tests and health). */
  get waiting(): number {
    let n = 0;
    for (let w = this.#waiting.head; w; w = w.next) n++;
    return n;
  }

  /** True while the queue's timer keeps the process alive (only while a call waits). */
  get keepsProcessAlive(): boolean {
    return this.#timer !== undefined && this.#refed;
  }

  /** `work`'s outcome, or a rejection with `onTimeout()` once the deadline passes first. */
  run<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w: Waiter = {
        due: performance.now() + this.#ms,
        reject,
        prev: undefined,
        next: undefined,
        done: false,
      };
      this.#waiting.append(w);
      this.#arm();
      work.then(
        (value) => {
          if (this.#finish(w)) resolve(value);
        },
        (error: unknown) => {
          if (this.#finish(w)) reject(error);
        },
      );
    });
  }

  #arm(): void {
    if (this.#timer === undefined) {
      // Every waiter is due at or after this (same duration, later start), so one timer for the
      // oldest covers them all; `#fire` re-arms it for the next one.
      this.#timer = setTimeout(this.#fire, this.#ms);
      this.#refed = true;
    } else if (!this.#refed) {
      this.#timer.ref();
      this.#refed = true;
    }
  }

  /** Marks a waiter settled and unlinks it; false when its deadline (or result) came first. */
  #finish(w: Waiter): boolean {
    if (w.done) return false;
    w.done = true;
    this.#waiting.unlink(w);
    if (this.#waiting.head === undefined && this.#refed && this.#timer !== undefined) {
      // Nothing waits: the armed timer may fire later (and find nothing) but holds no process open.
      this.#timer.unref();
      this.#refed = false;
    }
    return true;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#refed = false;
    const now = performance.now();
    const waiting = this.#waiting;
    for (let w = waiting.head; w !== undefined && w.due <= now + SLACK_MS; w = waiting.head) {
      w.done = true;
      waiting.unlink(w);
      try {
        w.reject(this.#onTimeout());
      } catch {
        // onTimeout failed to build its error: the waiter is rejected with nothing better.
        w.reject(new Error(`timed out after ${this.#ms} ms`));
      }
    }
    const next = waiting.head;
    if (next !== undefined) {
      this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(next.due - now)));
      this.#refed = true;
    }
  };
}
