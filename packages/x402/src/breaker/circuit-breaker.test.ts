import { type CircuitStateChangedEvent, EventBus, ManualClock } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';

function fail(b: CircuitBreaker, n = 1): void {
  for (let i = 0; i < n; i++) b.tryAcquire()?.failure('boom');
}
function succeed(b: CircuitBreaker, n = 1): void {
  for (let i = 0; i < n; i++) b.tryAcquire()?.success();
}

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, not after N total failures', () => {
    const b = new CircuitBreaker({ name: 'f', failureThreshold: 3, clock: new ManualClock(0) });
    // 10 failures in total, never 3 in a row
    for (let i = 0; i < 5; i++) {
      fail(b, 2);
      succeed(b);
    }
    expect(b.state).toBe('closed');
    expect(b.snapshot().consecutiveFailures).toBe(0);
    fail(b, 3);
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBeNull();
    expect(b.isCallPermitted()).toBe(false);
  });

  it('moves to half-open after the reset timeout, lets one probe through, and closes on success', () => {
    const clock = new ManualClock(1_000);
    const events = new EventBus();
    const seen: CircuitStateChangedEvent[] = [];
    events.on('circuit.state_changed', (e) => {
      seen.push(e);
    });
    const b = new CircuitBreaker({
      name: 'primary',
      failureThreshold: 2,
      resetTimeoutMs: 5_000,
      clock,
      events,
    });
    fail(b, 2);
    expect(b.snapshot()).toMatchObject({ state: 'open', openedAt: 1_000, retryAt: 6_000 });
    clock.advance(4_999);
    expect(b.tryAcquire()).toBeNull();
    clock.advance(1);
    expect(b.state).toBe('half_open');
    const probe = b.tryAcquire();
    expect(probe?.probe).toBe(true);
    expect(b.tryAcquire()).toBeNull(); // one probe at a time
    probe!.success();
    expect(b.state).toBe('closed');
    expect(seen.map((e) => [e.from, e.to, e.facilitator, e.at])).toEqual([
      ['closed', 'open', 'primary', 1_000],
      ['open', 'half_open', 'primary', 6_000],
      ['half_open', 'closed', 'primary', 6_000],
    ]);
    expect(seen[0]!.reason).toContain('2 consecutive failures');
  });

  it('re-opens when the probe fails and waits a full reset timeout again', () => {
    const clock = new ManualClock(0);
    const b = new CircuitBreaker({ name: 'f', failureThreshold: 1, resetTimeoutMs: 100, clock });
    fail(b);
    clock.advance(100);
    b.tryAcquire()!.failure('still down');
    expect(b.state).toBe('open');
    expect(b.snapshot().retryAt).toBe(200);
    clock.advance(99);
    expect(b.state).toBe('open');
    clock.advance(1);
    expect(b.state).toBe('half_open');
  });

  it('needs successThreshold probe successes to close', () => {
    const clock = new ManualClock(0);
    const b = new CircuitBreaker({
      name: 'f',
      failureThreshold: 1,
      resetTimeoutMs: 10,
      successThreshold: 2,
      halfOpenMaxProbes: 2,
      clock,
    });
    fail(b);
    clock.advance(10);
    const p1 = b.tryAcquire()!;
    const p2 = b.tryAcquire()!;
    expect(b.tryAcquire()).toBeNull();
    p1.success();
    expect(b.state).toBe('half_open');
    p2.success();
    expect(b.state).toBe('closed');
  });

  it('ignores outcomes of calls that started before the last state change', () => {
    const clock = new ManualClock(0);
    const b = new CircuitBreaker({ name: 'f', failureThreshold: 2, resetTimeoutMs: 10, clock });
    const slow = b.tryAcquire()!; // started while closed
    fail(b, 2);
    expect(b.state).toBe('open');
    slow.success(); // late success must not close the circuit
    expect(b.state).toBe('open');
    clock.advance(10);
    const probe = b.tryAcquire()!;
    const stale = slow;
    stale.failure(); // second report of a permit is ignored
    expect(b.state).toBe('half_open');
    probe.ignore(); // an ignored probe frees its slot and says nothing
    expect(b.state).toBe('half_open');
    expect(b.tryAcquire()).not.toBeNull();
  });

  it('opens on the failure rate over a rolling window with a minimum volume', () => {
    const clock = new ManualClock(0);
    const b = new CircuitBreaker({
      name: 'f',
      failureThreshold: 100,
      failureRate: { threshold: 0.5, windowMs: 10_000, minimumRequests: 10 },
      clock,
    });
    // alternate: 50% failures, but fewer than 10 calls → stays closed
    for (let i = 0; i < 4; i++) {
      fail(b);
      succeed(b);
    }
    expect(b.state).toBe('closed');
    fail(b); // 9 calls
    expect(b.state).toBe('closed');
    succeed(b); // 10 calls, 5 failures, but the rate is only checked on a failure
    fail(b); // 11 calls, 6 failures → 54%
    expect(b.state).toBe('open');
  });

  it('forgets failures that slid out of the window', () => {
    const clock = new ManualClock(0);
    const b = new CircuitBreaker({
      name: 'f',
      failureThreshold: 100,
      failureRate: { threshold: 0.5, windowMs: 1_000, minimumRequests: 4, buckets: 10 },
      clock,
    });
    fail(b, 3);
    succeed(b);
    clock.advance(1_000); // the window moved past every call
    expect(b.snapshot().windowCalls).toBe(0);
    succeed(b, 3);
    fail(b); // 1 of 4 in the window
    expect(b.state).toBe('closed');
  });

  it('trip() and reset() let an operator override the circuit', () => {
    const b = new CircuitBreaker({ name: 'f', clock: new ManualClock(0) });
    b.trip('maintenance');
    expect(b.state).toBe('open');
    b.reset();
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).not.toBeNull();
  });

  it('rejects bad options with a typed error', () => {
    expect(() => new CircuitBreaker({ name: 'f', failureThreshold: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_OPTIONS' }),
    );
    expect(() => new CircuitBreaker({ name: 'f', extra: 1 } as never)).toThrow(
      /Invalid CircuitBreaker options/,
    );
  });

  it('property: the circuit is open exactly when the last N outcomes were failures (no rate trigger)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.boolean(), { maxLength: 60 }),
        (n, outcomes) => {
          const b = new CircuitBreaker({
            name: 'p',
            failureThreshold: n,
            resetTimeoutMs: 1e9,
            clock: new ManualClock(0),
          });
          let run = 0;
          let opened = false;
          for (const ok of outcomes) {
            const permit = b.tryAcquire();
            if (opened) {
              expect(permit).toBeNull();
              continue;
            }
            expect(permit).not.toBeNull();
            if (ok) {
              permit!.success();
              run = 0;
            } else {
              permit!.failure();
              run++;
            }
            if (run >= n) opened = true;
            expect(b.state).toBe(opened ? 'open' : 'closed');
          }
        },
      ),
    );
  });
});
