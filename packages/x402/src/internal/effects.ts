import type { PaymentFailedEvent, PaymentSettledEvent } from '@bursar/core';
import type { ProvenanceRecorder, SpendRecorder, SpendRecordInput } from '../seller/ports.js';
import type { EventSink } from './options.js';

/** Reports an internal error without ever throwing. */
export type ErrorReporter = (error: unknown, context: { hook: string; paymentId?: string }) => void;

export function defaultOnError(error: unknown, context: { hook: string; paymentId?: string }): void {
  const err = error instanceof Error ? error : new Error(String(error));
  process.emitWarning(`Bursar x402 guard (${context.hook}) failed: ${err.message}`, {
    code: 'BURSAR_X402_GUARD_ERROR',
    detail: err.stack,
  });
}

/**
 * The side effects of a guard: lifecycle events, spend records and provenance appends. None
 * of them may throw into a hook; failures go to the error reporter. Provenance appends do not
 * block the hook; `idle()` waits for them.
 */
export class Effects {
  readonly #events: EventSink | undefined;
  readonly #tracker: SpendRecorder | undefined;
  readonly #provenance: ProvenanceRecorder | undefined;
  readonly #onError: ErrorReporter;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(o: {
    events: EventSink | undefined;
    tracker: SpendRecorder | undefined;
    provenance: ProvenanceRecorder | undefined;
    onError: ErrorReporter | undefined;
  }) {
    this.#events = o.events;
    this.#tracker = o.tracker;
    this.#provenance = o.provenance;
    this.#onError = o.onError ?? defaultOnError;
  }

  get recordsProvenance(): boolean {
    return this.#provenance !== undefined;
  }

  get tracksSpend(): boolean {
    return this.#tracker !== undefined;
  }

  /** False when nobody would receive `type` (so callers can skip building the event). */
  wants(type: 'payment.settled' | 'payment.failed'): boolean {
    const bus = this.#events;
    if (!bus) return false;
    return typeof bus.listenerCount === 'function' ? bus.listenerCount(type) > 0 : true;
  }

  settled(event: PaymentSettledEvent & Record<string, unknown>): void {
    this.#emit('payment.settled', event);
  }

  failed(event: PaymentFailedEvent & Record<string, unknown>): void {
    this.#emit('payment.failed', event);
  }

  spend(input: SpendRecordInput, paymentId: string): void {
    if (!this.#tracker) return;
    try {
      this.#tracker.record(input);
    } catch (error) {
      this.report(error, 'tracker', paymentId);
    }
  }

  /** Appends a provenance record without blocking; `undefined` members are dropped. */
  record(type: string, data: Record<string, unknown>): void {
    if (!this.#provenance) return;
    for (const k of Object.keys(data)) if (data[k] === undefined) delete data[k];
    const paymentId = typeof data.paymentId === 'string' ? data.paymentId : undefined;
    try {
      const p = this.#provenance.append(type, data);
      if (p && typeof (p as Promise<unknown>).then === 'function') {
        const tracked: Promise<unknown> = (p as Promise<unknown>)
          .catch((error: unknown) => this.report(error, `provenance:${type}`, paymentId))
          .finally(() => this.#inFlight.delete(tracked));
        this.#inFlight.add(tracked);
      }
    } catch (error) {
      this.report(error, `provenance:${type}`, paymentId);
    }
  }

  report(error: unknown, hook: string, paymentId?: string): void {
    try {
      this.#onError(error, { hook, ...(paymentId ? { paymentId } : {}) });
    } catch {
      // A failing error reporter must not break a hook.
    }
  }

  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #emit(type: 'payment.settled' | 'payment.failed', payload: PaymentSettledEvent | PaymentFailedEvent): void {
    if (!this.#events) return;
    try {
      this.#events.emit(type, payload as never);
    } catch (error) {
      this.report(error, `emit:${type}`);
    }
  }
}
