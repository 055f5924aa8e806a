import type { BursarEventMap } from './event-map.js';

type Listener<P> = (payload: P) => void | Promise<void>;
type AnyListener<M> = <K extends keyof M & string>(type: K, payload: M[K]) => void | Promise<void>;

/** The event map must have a `listener.error` event, where failing listeners are reported. */
export interface HasListenerError {
  'listener.error': { event: string; error: unknown };
}

/**
 * A typed, synchronous event bus. Listeners run in registration order; a listener that
 * throws (or whose promise rejects) never breaks the emitter or the other listeners: the
 * failure is emitted as `listener.error`, and when nobody listens for that, reported as a
 * process warning — never swallowed silently.
 *
 * @example
 * const bus = new EventBus();
 * const off = bus.on('hold.captured', (e) => console.log(e.agentId, e.captured));
 * off(); // unsubscribe
 */
export class EventBus<M extends HasListenerError = BursarEventMap> {
  readonly #listeners = new Map<keyof M, Set<Listener<never>>>();
  readonly #any = new Set<AnyListener<M>>();
  /** Snapshots emit iterates, rebuilt only when listeners change (no copy per event). */
  readonly #snapshots = new Map<keyof M, readonly Listener<never>[]>();
  #anySnapshot: readonly AnyListener<M>[] = [];

  /** Subscribes; returns a function that unsubscribes. */
  on<K extends keyof M & string>(type: K, listener: Listener<M[K]>): () => void {
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(listener as Listener<never>);
    this.#snapshots.set(type, [...set]);
    return () => {
      if (set.delete(listener as Listener<never>)) this.#snapshots.set(type, [...set]);
    };
  }

  /** Subscribes for one event only. */
  once<K extends keyof M & string>(type: K, listener: Listener<M[K]>): () => void {
    const off = this.on(type, (payload) => {
      off();
      return listener(payload);
    });
    return off;
  }

  /** Subscribes to every event (audit trails, loggers). */
  onAny(listener: AnyListener<M>): () => void {
    this.#any.add(listener);
    this.#anySnapshot = [...this.#any];
    return () => {
      if (this.#any.delete(listener)) this.#anySnapshot = [...this.#any];
    };
  }

  /** Number of listeners for `type` (plus catch-all listeners). */
  listenerCount(type: keyof M & string): number {
    return (this.#listeners.get(type)?.size ?? 0) + this.#any.size;
  }

  /** Delivers `payload` to every listener of `type`, then to catch-all listeners. */
  emit<K extends keyof M & string>(type: K, payload: M[K]): void {
    // Indexed loops and no closure per listener: emit runs on every payment.
    const listeners = this.#snapshots.get(type);
    if (listeners) {
      for (let i = 0; i < listeners.length; i++) {
        try {
          this.#settled(type, (listeners[i] as Listener<M[K]>)(payload));
        } catch (error) {
          this.#report(type, error);
        }
      }
    }
    const any = this.#anySnapshot;
    for (let i = 0; i < any.length; i++) {
      try {
        this.#settled(type, any[i]!(type, payload));
      } catch (error) {
        this.#report(type, error);
      }
    }
  }

  /** Reports a listener's promise that rejects. */
  #settled(type: string, result: void | Promise<void>): void {
    if (result && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(undefined, (error: unknown) => this.#report(type, error));
    }
  }

  #report(type: string, error: unknown): void {
    if (type === 'listener.error' || (this.#listeners.get('listener.error')?.size ?? 0) === 0) {
      // Either an error listener failed itself or nobody listens: never loop, never hide it.
      const err = error instanceof Error ? error : new Error(String(error));
      process.emitWarning(`Bursar event listener for "${type}" failed: ${err.message}`, {
        code: 'BURSAR_LISTENER_ERROR',
        detail: err.stack,
      });
      return;
    }
    this.emit('listener.error' as keyof M & string, { event: type, error } as M[keyof M & string]);
  }
}
