import { AssetRegistry, BursarError, EventBus, ManualClock, Money } from '@bursar/core';
import { afterEach, describe, expect, it } from 'vitest';
import { captured } from '../__fixtures__/events.js';
import { ObserveErrorCode } from '../errors/index.js';
import { SpendTracker } from './spend-tracker.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-03-02T10:00:00Z');

const trackers: SpendTracker[] = [];
function make(options: ConstructorParameters<typeof SpendTracker>[0] = {}) {
  const clock = new ManualClock(T0);
  const bus = new EventBus();
  const tracker = new SpendTracker({ clock, bus, ...options });
  trackers.push(tracker);
  return { clock, bus, tracker };
}
afterEach(() => {
  for (const t of trackers.splice(0)) t.close();
});

describe('SpendTracker: what counts as spend', () => {
  it('counts hold.captured by its captured amount, falling back to the amount', () => {
    const { clock, bus, tracker } = make();
    bus.emit('hold.captured', captured(clock.now(), { amount: '50.00', captured: '42.10' }));
    bus.emit('hold.captured', captured(clock.now(), { amount: '7.25' }));
    const t = tracker.total({ currency: 'USD' });
    expect(t.total.toDecimalString()).toBe('49.35');
    expect(t.count).toBe(2);
  });

  it('does not count a settlement that carries a hold id twice, but counts external settlements', () => {
    const { clock, bus, tracker } = make();
    const e = captured(clock.now(), { amount: '20.00', holdId: 'hold_a' });
    bus.emit('hold.captured', e);
    bus.emit('payment.settled', {
      at: clock.now(),
      agentId: 'bot',
      holdId: 'hold_a',
      amount: '20.00',
      currency: 'USD',
    });
    bus.emit('payment.settled', {
      at: clock.now(),
      agentId: 'bot',
      amount: '3.00',
      currency: 'USD',
      transaction: '0xabc',
    });
    expect(tracker.total({ currency: 'USD' }).total.toDecimalString()).toBe('23.00');
    expect(tracker.stats()).toMatchObject({ recorded: 2, settlementsOfCaptures: 1 });
    expect(tracker.recent({ limit: 1 })[0]).toMatchObject({ source: 'settlement', transaction: '0xabc' });
  });

  it('counts a capture delivered twice once', () => {
    const { clock, bus, tracker } = make();
    const e = captured(clock.now(), { amount: '5.00' });
    bus.emit('hold.captured', e);
    bus.emit('hold.captured', e);
    expect(tracker.total({ currency: 'USD' }).count).toBe(1);
    expect(tracker.stats().duplicates).toBe(1);
  });

  it('ignores zero captures and events without amount or currency', () => {
    const { clock, bus, tracker } = make();
    bus.emit('hold.captured', captured(clock.now(), { captured: '0.00' }));
    bus.emit('hold.captured', captured(clock.now(), { amount: undefined }));
    bus.emit('hold.captured', captured(clock.now(), { currency: undefined }));
    expect(tracker.stats()).toMatchObject({ recorded: 0, ignored: 3 });
  });

  it('reports an invalid event through onError and changes nothing', () => {
    const errors: unknown[] = [];
    const { clock, bus, tracker } = make({ onError: (e) => errors.push(e) });
    bus.emit('hold.captured', captured(clock.now(), { amount: '1.001' }));
    bus.emit('hold.captured', captured(clock.now(), { currency: 'NOPE' }));
    expect(errors.map((e) => (e as BursarError).code)).toEqual([
      'ERR_BURSAR_INVALID_AMOUNT',
      'ERR_BURSAR_UNKNOWN_ASSET',
    ]);
    expect(tracker.stats()).toMatchObject({ recorded: 0, rejected: 2, series: 0 });
  });

  it('record() rejects bad input with a typed error and records nothing', () => {
    const { tracker } = make();
    const bad: unknown[] = [
      { amount: '1', currency: 'USD' },
      { agentId: '', amount: '1', currency: 'USD' },
      { agentId: 'a', amount: '-1', currency: 'USD' },
      { agentId: 'a', amount: 'ten', currency: 'USD' },
      { agentId: 'a', amount: '1' },
      { agentId: 'a', amount: '1', currency: 'USD', at: Number.NaN },
      { agentId: 'a', amount: Money.parse('1', 'USD'), currency: 'EUR' },
      { agentId: 'a', amount: '1', currency: 'USD', recipient: 42 },
    ];
    for (const input of bad) {
      expect(() => tracker.record(input as never)).toThrow(BursarError);
    }
    expect(tracker.stats()).toMatchObject({ recorded: 0, rejected: bad.length, series: 0, recent: 0 });
    expect(() => tracker.record({ agentId: 'a', amount: '1' })).toThrow(
      expect.objectContaining({ code: ObserveErrorCode.INVALID_PAYMENT }),
    );
  });

  it('keeps currencies apart and is exact beyond 2^53 minor units', () => {
    const { tracker } = make();
    tracker.record({ agentId: 'a', amount: '9007199254740993', currency: 'ETH' });
    tracker.record({ agentId: 'a', amount: '0.000000000000000001', currency: 'eth' });
    tracker.record({ agentId: 'a', amount: '1.10', currency: 'EUR' });
    const totals = tracker.totals({ agentId: 'a' }).totals;
    expect(totals.map((t) => [t.currency, t.total.toDecimalString(), t.count])).toEqual([
      ['ETH', '9007199254740993.000000000000000001', 2],
      ['EUR', '1.10', 1],
    ]);
  });

  it('stays exact when a bucket sum crosses 2^53 minor units', () => {
    const { tracker } = make();
    // 2^52 cents each: the third add takes the sum past Number.MAX_SAFE_INTEGER.
    for (let i = 0; i < 3; i++)
      tracker.record({ agentId: 'a', amount: '45035996273704.96', currency: 'USD' });
    tracker.record({ agentId: 'a', amount: '0.01', currency: 'USD' });
    const t = tracker.total({ agentId: 'a', currency: 'USD' });
    expect(t.total.minor).toBe(3n * 2n ** 52n + 1n);
    expect(t.largest?.amount.minor).toBe(2n ** 52n);
  });

  it('accepts custom assets from its registry', () => {
    const assets = new AssetRegistry();
    assets.register({ symbol: 'CREDITS', decimals: 0 });
    const { tracker } = make({ assets });
    tracker.record({ agentId: 'a', amount: '12', currency: 'credits' });
    expect(tracker.total({ currency: 'CREDITS' }).total.format()).toBe('12 CREDITS');
  });

  it('notifies listeners after aggregating, and a failing listener does not break recording', () => {
    const errors: unknown[] = [];
    const { tracker } = make({ onError: (e) => errors.push(e) });
    const seen: string[] = [];
    tracker.onRecord(() => {
      throw new Error('boom');
    });
    const off = tracker.onRecord((r) =>
      seen.push(`${r.seq}:${tracker.total({ currency: 'USD' }).total.toDecimalString()}`),
    );
    tracker.record({ agentId: 'a', amount: '2', currency: 'USD' });
    off();
    tracker.record({ agentId: 'a', amount: '3', currency: 'USD' });
    expect(seen).toEqual(['1:2.00']);
    expect(errors).toHaveLength(2);
    expect(tracker.total({ currency: 'USD' }).total.toDecimalString()).toBe('5.00');
  });
});

describe('SpendTracker: buckets, ranges and retention (manual clock)', () => {
  it('answers exact minute ranges and reports the covered range', () => {
    const { clock, tracker } = make();
    tracker.record({ agentId: 'a', amount: '1', currency: 'USD', at: T0 + 10 * MIN + 5000 });
    tracker.record({ agentId: 'a', amount: '2', currency: 'USD', at: T0 + 11 * MIN });
    tracker.record({ agentId: 'a', amount: '4', currency: 'USD', at: T0 + 12 * MIN + 59_999 });
    clock.advance(30 * MIN);
    const r = tracker.total({
      agentId: 'a',
      currency: 'USD',
      from: T0 + 10 * MIN + 30_000,
      to: T0 + 12 * MIN,
    });
    // Rounded outward to whole minutes: [10:10, 10:12).
    expect([r.from, r.to]).toEqual([T0 + 10 * MIN, T0 + 12 * MIN]);
    expect(r.total.toDecimalString()).toBe('3.00');
    expect(r.truncated).toBe(false);
    const all = tracker.total({ agentId: 'a', currency: 'USD', from: T0, to: T0 + 13 * MIN });
    expect(all.total.toDecimalString()).toBe('7.00');
    expect(all.largest).toEqual({
      amount: Money.parse('4', 'USD'),
      at: T0 + 12 * MIN + 59_999,
      recipient: undefined,
    });
  });

  it('includes a payment made exactly now in the default range', () => {
    const { clock, tracker } = make();
    tracker.record({ agentId: 'a', amount: '1', currency: 'USD' });
    expect(tracker.total({ currency: 'USD', from: clock.now() }).count).toBe(1);
  });

  it('falls back to hour, then day buckets as finer ones expire, then reports truncation', () => {
    const { clock, tracker } = make();
    tracker.record({ agentId: 'a', amount: '1', currency: 'USD', at: T0 + 5 * MIN });
    tracker.record({ agentId: 'a', amount: '2', currency: 'USD', at: T0 + 50 * MIN });
    const q = { agentId: 'a', currency: 'USD', from: T0 + 4 * MIN, to: T0 + 6 * MIN };
    expect(tracker.total(q).total.toDecimalString()).toBe('1.00');

    clock.advance(3 * HOUR); // minute buckets (2 h) are gone: the hour is the finest left
    let r = tracker.total(q);
    expect([r.from, r.to, r.total.toDecimalString()]).toEqual([T0, T0 + HOUR, '3.00']);

    clock.advance(8 * DAY); // hour buckets (7 d) are gone: the UTC day
    r = tracker.total(q);
    expect([r.from, r.to, r.total.toDecimalString()]).toEqual([
      Date.parse('2026-03-02T00:00:00Z'),
      Date.parse('2026-03-03T00:00:00Z'),
      '3.00',
    ]);

    clock.advance(400 * DAY); // everything is gone
    r = tracker.total(q);
    expect(r.truncated).toBe(true);
    expect(r.count).toBe(0);
  });

  it('mixes granularities without double counting: days in the middle, hours and minutes at the edges', () => {
    const { clock, tracker } = make();
    const start = Date.parse('2026-03-01T00:00:00Z');
    clock.set(start);
    // One payment of 1.00 every 10 minutes for 3 days.
    for (let t = start; t < start + 3 * DAY; t += 10 * MIN) {
      clock.set(t);
      tracker.record({ agentId: 'a', amount: '1', currency: 'USD' });
    }
    clock.set(start + 3 * DAY);
    const from = start + 13 * HOUR; // minutes expired there: rounds to the hour
    const to = start + 3 * DAY - 25 * MIN; // minutes kept there: exact
    const r = tracker.total({ currency: 'USD', from, to });
    expect([r.from, r.to]).toEqual([from, to]);
    let expected = 0;
    for (let t = start; t < start + 3 * DAY; t += 10 * MIN) if (t >= from && t < to) expected++;
    expect(r.count).toBe(expected);
    expect(r.total.toDecimalString()).toBe(`${expected}.00`);
  });

  it('forgets series whose buckets all expired and keeps memory bounded', () => {
    const { clock, tracker } = make({ retention: { minute: HOUR, hour: 2 * HOUR, day: 2 * DAY } });
    for (let i = 0; i < 50; i++)
      tracker.record({ agentId: `a${i}`, amount: '1', currency: 'USD', recipient: `r${i}` });
    expect(tracker.stats().series).toBeGreaterThan(100);
    clock.advance(5 * DAY);
    tracker.sweep();
    expect(tracker.stats()).toMatchObject({ series: 0, buckets: 0 });
    expect(tracker.total({ currency: 'USD' }).count).toBe(0);
  });

  it('sweeps a little on every payment, without being asked', () => {
    const { clock, tracker } = make({
      retention: { minute: HOUR, hour: 2 * HOUR, day: 2 * DAY },
      sweepBatch: 1000,
    });
    for (let i = 0; i < 20; i++) tracker.record({ agentId: `a${i}`, amount: '1', currency: 'USD' });
    const before = tracker.stats().series;
    clock.advance(5 * DAY);
    tracker.record({ agentId: 'z', amount: '1', currency: 'USD' });
    expect(before).toBeGreaterThan(20);
    // Only the new payment's series remain (org, agent, recipient, action, protocol, 3 agent pairs).
    expect(tracker.stats().series).toBe(8);
  });

  it('caps live series with maxSeries, dropping the least recently written', () => {
    const { clock, tracker } = make({
      indexes: [{ dimensions: ['agent'], granularities: ['day'] }],
      maxSeries: 10,
    });
    for (let i = 0; i < 25; i++) {
      clock.advance(MIN);
      tracker.record({ agentId: `a${i}`, amount: '1', currency: 'USD' });
    }
    expect(tracker.stats()).toMatchObject({ series: 10, evictedSeries: 15 });
    expect(tracker.total({ agentId: 'a24', currency: 'USD' }).count).toBe(1);
    expect(tracker.total({ agentId: 'a0', currency: 'USD' }).count).toBe(0);
  });

  it('keeps a bounded recent window by capacity and age', () => {
    const { clock, tracker } = make({ recent: { capacity: 3, maxAgeMs: HOUR } });
    for (let i = 1; i <= 5; i++) tracker.record({ agentId: 'a', amount: String(i), currency: 'USD' });
    expect(tracker.recent().map((r) => r.amount.toDecimalString())).toEqual(['5.00', '4.00', '3.00']);
    expect(tracker.recent({ limit: 1 })).toHaveLength(1);
    clock.advance(2 * HOUR);
    tracker.record({ agentId: 'b', amount: '9', currency: 'USD' });
    expect(tracker.recent().map((r) => r.agentId)).toEqual(['b']);
    expect(tracker.stats().recent).toBe(1);
  });

  it('skips bucket writes older than retention but still records the payment', () => {
    const { clock, tracker } = make();
    tracker.record({ agentId: 'a', amount: '1', currency: 'USD', at: clock.now() - 3 * HOUR });
    expect(tracker.stats().late).toBe(1);
    const r = tracker.total({ currency: 'USD', from: clock.now() - 4 * HOUR });
    expect(r.total.toDecimalString()).toBe('1.00');
  });
});

describe('SpendTracker: time zones', () => {
  it('starts day buckets at local midnight', () => {
    const { clock, tracker } = make({ timeZone: 'America/New_York' });
    clock.set('2026-01-15T12:00:00Z');
    // 03:00 UTC on the 15th is 22:00 on the 14th in New York (UTC−5).
    tracker.record({ agentId: 'a', amount: '1', currency: 'USD', at: Date.parse('2026-01-15T03:00:00Z') });
    tracker.record({ agentId: 'a', amount: '2', currency: 'USD', at: Date.parse('2026-01-15T06:00:00Z') });
    const s = tracker.series({
      currency: 'USD',
      granularity: 'day',
      from: Date.parse('2026-01-14T05:00:00Z'),
      to: Date.parse('2026-01-16T05:00:00Z'),
    });
    expect(
      s.currencies[0]!.points.map((p) => [new Date(p.start).toISOString(), p.total.toDecimalString()]),
    ).toEqual([
      ['2026-01-14T05:00:00.000Z', '1.00'],
      ['2026-01-15T05:00:00.000Z', '2.00'],
    ]);
  });

  it('has a 23-hour day on the spring DST change, tiled by its hour buckets', () => {
    const { clock, tracker } = make({ timeZone: 'Europe/Berlin' });
    clock.set('2026-03-30T00:00:00Z');
    const dayStart = Date.parse('2026-03-28T23:00:00Z'); // 29 March, 00:00 CET
    const dayEnd = Date.parse('2026-03-29T22:00:00Z'); // 30 March, 00:00 CEST
    for (let t = dayStart; t < dayEnd; t += 30 * MIN)
      tracker.record({ agentId: 'a', amount: '1', currency: 'USD', at: t });
    const days = tracker.series({ currency: 'USD', granularity: 'day', from: dayStart, to: dayEnd });
    expect(days.currencies[0]!.points).toHaveLength(1);
    expect(days.currencies[0]!.points[0]).toMatchObject({ start: dayStart, end: dayEnd, count: 46 });
    const hours = tracker.series({ currency: 'USD', granularity: 'hour', from: dayStart, to: dayEnd });
    expect(hours.currencies[0]!.points).toHaveLength(23);
    expect(hours.currencies[0]!.points.every((p) => p.count === 2)).toBe(true);
  });

  it('rejects an unknown time zone at construction', () => {
    expect(() => new SpendTracker({ timeZone: 'Mars/Olympus' })).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_OPTIONS' }),
    );
  });
});

describe('SpendTracker: queries', () => {
  it('breaks spend down by a dimension, largest first, with counts and largest payments', () => {
    const { tracker } = make();
    tracker.record({ agentId: 'a', amount: '5', currency: 'USD', recipient: 'r1' });
    tracker.record({ agentId: 'a', amount: '7', currency: 'USD', recipient: 'r2' });
    tracker.record({ agentId: 'a', amount: '1', currency: 'USD', recipient: 'r1' });
    tracker.record({ agentId: 'a', amount: '3', currency: 'USD' });
    tracker.record({ agentId: 'b', amount: '100', currency: 'USD', recipient: 'r1' });
    const b = tracker.breakdown({ by: 'recipient', agentId: 'a' });
    expect(b.index).toBe('agent+recipient');
    expect(
      b.rows.map((r) => [r.value, r.total.toDecimalString(), r.count, r.largest?.amount.toDecimalString()]),
    ).toEqual([
      ['r2', '7.00', 1, '7.00'],
      ['r1', '6.00', 2, '5.00'],
      [null, '3.00', 1, '3.00'],
    ]);
    expect(
      tracker.breakdown({ by: 'recipient', agentId: 'a', rankBy: 'count', limit: 1 }).rows[0]!.value,
    ).toBe('r1');
    expect(tracker.breakdown({ by: 'agent' }).rows.map((r) => r.value)).toEqual(['b', 'a']);
    expect(tracker.values('agent').sort()).toEqual(['a', 'b']);
  });

  it('names the kept indexes when a query needs one that is not kept', () => {
    const { tracker } = make();
    expect(() => tracker.totals({ recipient: 'r', protocol: 'x402' })).toThrow(
      expect.objectContaining({ code: ObserveErrorCode.UNSUPPORTED_QUERY }),
    );
    expect(() => tracker.series({ agentId: 'a', recipient: 'r', granularity: 'minute' })).toThrow(
      /keeps day buckets, not minute/,
    );
  });

  it('answers with an index of your own', () => {
    const { tracker } = make({
      indexes: [
        { dimensions: [], granularities: ['hour'] },
        { dimensions: ['recipient', 'protocol'], granularities: ['minute', 'day'] },
      ],
    });
    tracker.record({ agentId: 'a', amount: '2', currency: 'USD', recipient: 'r', protocol: 'x402' });
    tracker.record({ agentId: 'b', amount: '3', currency: 'USD', recipient: 'r', protocol: 'acp' });
    expect(tracker.total({ recipient: 'r', protocol: 'x402', currency: 'USD' }).total.toDecimalString()).toBe(
      '2.00',
    );
    expect(tracker.indexes).toEqual(['org', 'recipient+protocol']);
  });

  it('rejects repeated dimensions and duplicate indexes', () => {
    expect(
      () =>
        new SpendTracker({
          indexes: [
            { dimensions: ['agent', 'agent'], granularities: ['day'] },
            { dimensions: ['recipient'], granularities: ['day', 'day'] },
          ],
        }),
    ).toThrow(/repeated dimension.*repeated granularity/);
    expect(() => new SpendTracker({ bogus: 1 } as never)).toThrow(/Invalid SpendTracker options/);
  });
});
