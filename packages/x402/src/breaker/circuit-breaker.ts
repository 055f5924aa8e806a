import { type Clock, systemClock } from '@bursar/core';
import { z } from 'zod';
import { clockSchema, type EventSink, eventSinkSchema, parseOptions } from '../internal/options.js';

/** `closed`: calls flow. `open`: calls fail fast. `half_open`: a few probe calls test recovery. */
export type CircuitState = 'closed' | 'open' | 'half_open';

const positiveInt = z.number().int().positive();

/** Options of the failure-rate trigger: opens when the failure share in a rolling window is too high. */
export const FailureRateOptions = z.strictObject({
  /** Share of failed calls (0 < threshold ≤ 1) that opens the circuit. */
  threshold: z.number().gt(0).lte(1),
  /** Length of the rolling window in ms. */
  windowMs: positiveInt,
  /** Fewer calls than this in the window never open the circuit by rate. Default 20. */
  minimumRequests: positiveInt.default(20),
  /** Buckets the window is cut into (precision vs. cost). Default 10. */
  buckets: positiveInt.max(1000).default(10),
});
export type FailureRateOptions = z.input<typeof FailureRateOptions>;

/** Options of a {@link CircuitBreaker}. */
export const CircuitBreakerOptions = z.strictObject({
  /** Name used in events (`facilitator` field of `circuit.state_changed`). */
  name: z.string().min(1).max(256),
  /** Opens after this many CONSECUTIVE failures (a success resets the count). Default 5. */
  failureThreshold: positiveInt.default(5),
  /** Optional second trigger: failure rate over a rolling window with a minimum volume. */
  failureRate: FailureRateOptions.optional(),
  /** How long the circuit stays open before letting probe calls through. Default 30 000 ms. */
  resetTimeoutMs: positiveInt.default(30_000),
  /** Probe calls allowed at once while half-open. Default 1. */
  halfOpenMaxProbes: positiveInt.default(1),
  /** Successful probes needed to close again. Default 1. */
  successThreshold: positiveInt.default(1),
  clock: clockSchema.optional(),
  /** Receives `circuit.state_changed` events (observe turns them into alerts). */
  events: eventSinkSchema.optional(),
});
export type CircuitBreakerOptions = z.input<typeof CircuitBreakerOptions>;

/** A point-in-time view of a breaker, for health endpoints and tests. */
export interface CircuitSnapshot {
  name: string;
  state: CircuitState;
  consecutiveFailures: number;
  /** Calls and failures inside the rolling window (0 when no failure-rate trigger is set). */
  windowCalls: number;
  windowFailures: number;
  /** When the circuit last opened (epoch ms), if it is open or half-open. */
  openedAt?: number;
  /** When an open circuit starts letting probes through. */
  retryAt?: number;
  probesInFlight: number;
}

/**
 * The right to make one call through the breaker. Report exactly one outcome: `success()`,
 * `failure(reason)`, or `ignore()` when the call said nothing about the dependency's health.
 */
export interface CircuitPermit {
  /** True when this call is a half-open probe. */
  readonly probe: boolean;
  success(): void;
  failure(reason?: string): void;
  ignore(): void;
}

type Report = (permit: Permit, outcome: 'success' | 'failure' | 'ignore', reason?: string) => void;

class Permit implements CircuitPermit {
  #done = false;
  constructor(
    readonly report: Report,
    readonly generation: number,
    readonly probe: boolean,
  ) {}
  success(): void {
    this.#end('success');
  }
  failure(reason?: string): void {
    this.#end('failure', reason);
  }
  ignore(): void {
    this.#end('ignore');
  }
  #end(outcome: 'success' | 'failure' | 'ignore', reason?: string): void {
    if (this.#done) return;
    this.#done = true;
    this.report(this, outcome, reason);
  }
}

interface Bucket {
  slot: number;
  calls: number;
  failures: number;
}

/**
 * A circuit breaker that counts CONSECUTIVE failures (never totals) and, optionally, the
 * failure rate over a rolling window with a minimum volume. Time comes only from the injected
 * clock; the open → half-open move happens lazily when the breaker is next asked, so a breaker
 * never owns a timer. Outcomes of calls that started before the last state change are ignored,
 * so a late success cannot close a circuit that opened meanwhile.
 *
 * @example
 * const breaker = new CircuitBreaker({ name: 'primary', failureThreshold: 3, resetTimeoutMs: 10_000 });
 * const permit = breaker.tryAcquire();
 * if (!permit) throw new Error('circuit open');
 * try { await call(); permit.success(); } catch (e) { permit.failure(String(e)); throw e; }
 */
export class CircuitBreaker {
  readonly name: string;
  readonly #o: z.output<typeof CircuitBreakerOptions>;
  readonly #clock: Clock;
  readonly #events: EventSink | undefined;
  #state: CircuitState = 'closed';
  #generation = 0;
  #consecutive = 0;
  #openedAt = 0;
  #probes = 0;
  #probeSuccesses = 0;
  readonly #buckets: Bucket[];
  readonly #bucketMs: number;

  constructor(options: CircuitBreakerOptions) {
    this.#o = parseOptions(CircuitBreakerOptions, options, 'CircuitBreaker');
    this.name = this.#o.name;
    this.#clock = this.#o.clock ?? systemClock;
    this.#events = this.#o.events;
    const rate = this.#o.failureRate;
    const n = rate?.buckets ?? 0;
    this.#bucketMs = rate ? Math.max(1, Math.ceil(rate.windowMs / n)) : 1;
    this.#buckets = Array.from({ length: n }, () => ({ slot: -1, calls: 0, failures: 0 }));
  }

  /** The current state (moves open → half-open when the reset timeout has passed). */
  get state(): CircuitState {
    this.#refresh();
    return this.#state;
  }

  /** True when a call would be let through now. Does not take a permit. */
  isCallPermitted(): boolean {
    this.#refresh();
    if (this.#state === 'closed') return true;
    if (this.#state === 'open') return false;
    return this.#probes < this.#o.halfOpenMaxProbes;
  }

  /** A permit for one call, or `null` when the circuit rejects it (open, or probes busy). */
  tryAcquire(): CircuitPermit | null {
    this.#refresh();
    if (this.#state === 'open') return null;
    let probe = false;
    if (this.#state === 'half_open') {
      if (this.#probes >= this.#o.halfOpenMaxProbes) return null;
      this.#probes++;
      probe = true;
    }
    return new Permit(this.#report, this.#generation, probe);
  }

  /** Where permits report their one outcome (bound once, so a permit is one small object). */
  readonly #report = (permit: Permit, outcome: 'success' | 'failure' | 'ignore', reason?: string): void => {
    const current = permit.generation === this.#generation;
    if (permit.probe && current) this.#probes--;
    if (outcome === 'ignore' || !current) return;
    if (outcome === 'success') this.#onSuccess(permit.probe);
    else this.#onFailure(permit.probe, reason);
  };

  /** Closes the circuit and clears every counter (an operator's manual reset). */
  reset(reason = 'manual reset'): void {
    this.#refresh();
    this.#clearCounters();
    this.#transition('closed', reason);
  }

  /** Opens the circuit now (an operator taking a facilitator out of rotation). */
  trip(reason = 'manual trip'): void {
    this.#refresh();
    this.#openedAt = this.#clock.now();
    this.#transition('open', reason);
  }

  snapshot(): CircuitSnapshot {
    this.#refresh();
    const { calls, failures } = this.#windowSums();
    return {
      name: this.name,
      state: this.#state,
      consecutiveFailures: this.#consecutive,
      windowCalls: calls,
      windowFailures: failures,
      ...(this.#state !== 'closed'
        ? { openedAt: this.#openedAt, retryAt: this.#openedAt + this.#o.resetTimeoutMs }
        : {}),
      probesInFlight: this.#probes,
    };
  }

  #onSuccess(probe: boolean): void {
    this.#consecutive = 0;
    this.#record(false);
    if (probe && this.#state === 'half_open') {
      this.#probeSuccesses++;
      if (this.#probeSuccesses >= this.#o.successThreshold) {
        this.#clearCounters();
        this.#transition('closed', 'probe succeeded');
      }
    }
  }

  #onFailure(probe: boolean, reason: string | undefined): void {
    this.#consecutive++;
    this.#record(true);
    if (probe || this.#state === 'half_open') {
      this.#openedAt = this.#clock.now();
      this.#transition('open', `probe failed${reason ? `: ${reason}` : ''}`);
      return;
    }
    if (this.#state !== 'closed') return;
    if (this.#consecutive >= this.#o.failureThreshold) {
      this.#openedAt = this.#clock.now();
      this.#transition(
        'open',
        `${this.#consecutive} consecutive failures${reason ? ` (last: ${reason})` : ''}`,
      );
      return;
    }
    const rate = this.#o.failureRate;
    if (rate) {
      const { calls, failures } = this.#windowSums();
      if (calls >= rate.minimumRequests && failures / calls >= rate.threshold) {
        this.#openedAt = this.#clock.now();
        this.#transition('open', `failure rate ${failures}/${calls} over ${rate.windowMs} ms`);
      }
    }
  }

  #refresh(): void {
    if (this.#state === 'open' && this.#clock.now() >= this.#openedAt + this.#o.resetTimeoutMs) {
      this.#transition('half_open', 'reset timeout elapsed');
    }
  }

  #transition(to: CircuitState, reason: string): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#generation++;
    this.#probes = 0;
    this.#probeSuccesses = 0;
    if (to === 'half_open') this.#consecutive = 0;
    this.#events?.emit('circuit.state_changed', {
      at: this.#clock.now(),
      facilitator: this.name,
      from,
      to,
      reason,
    });
  }

  #clearCounters(): void {
    this.#consecutive = 0;
    for (const b of this.#buckets) {
      b.slot = -1;
      b.calls = 0;
      b.failures = 0;
    }
  }

  #record(failed: boolean): void {
    const n = this.#buckets.length;
    if (n === 0) return;
    const slot = Math.floor(this.#clock.now() / this.#bucketMs);
    const b = this.#buckets[slot % n]!;
    if (b.slot !== slot) {
      b.slot = slot;
      b.calls = 0;
      b.failures = 0;
    }
    b.calls++;
    if (failed) b.failures++;
  }

  #windowSums(): { calls: number; failures: number } {
    const n = this.#buckets.length;
    if (n === 0) return { calls: 0, failures: 0 };
    const current = Math.floor(this.#clock.now() / this.#bucketMs);
    let calls = 0;
    let failures = 0;
    for (const b of this.#buckets) {
      if (b.slot > current - n && b.slot <= current) {
        calls += b.calls;
        failures += b.failures;
      }
    }
    return { calls, failures };
  }
}
