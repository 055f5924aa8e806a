import { ManualClock, Money } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { SpendTracker } from '../tracker/spend-tracker.js';
import { SpendAnalytics } from './spend-analytics.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2026-03-02T00:00:00Z');

function world() {
  const clock = new ManualClock(T0);
  const tracker = new SpendTracker({ clock });
  const analytics = new SpendAnalytics({ tracker });
  const pay = (
    agentId: string,
    amount: string,
    currency: string,
    recipient: string,
    protocol = 'x402',
    at = clock.now(),
  ) => tracker.record({ agentId, amount, currency, recipient, protocol, at });
  return { clock, tracker, analytics, pay };
}

describe('SpendAnalytics', () => {
  it('builds an agent report with exact totals, recipients, protocols, series and the largest payment', () => {
    const { clock, analytics, pay } = world();
    pay('research', '12.50', 'USDC', 'https://llm.example', 'x402', T0 + 1 * HOUR);
    pay('research', '7.25', 'USDC', 'https://search.example', 'x402', T0 + 2 * HOUR);
    pay('research', '40.00', 'USDC', 'https://llm.example', 'acp', T0 + 2 * HOUR + 5 * MIN);
    pay('research', '3.00', 'EUR', 'https://maps.example', 'card', T0 + 3 * HOUR);
    pay('other', '999.00', 'USDC', 'https://llm.example', 'x402', T0 + 3 * HOUR);
    clock.set(T0 + 4 * HOUR);

    const r = analytics.agentReport({ agentId: 'research', from: T0, top: 1 });
    expect(r.totals.map((t) => [t.currency, t.total.toDecimalString(), t.count])).toEqual([
      ['USDC', '59.750000', 3],
      ['EUR', '3.00', 1],
    ]);
    expect(r.totals[0]!.largest).toEqual({
      amount: Money.parse('40', 'USDC'),
      at: T0 + 2 * HOUR + 5 * MIN,
      recipient: 'https://llm.example',
    });
    expect(r.byRecipient?.map((x) => [x.value, x.currency, x.total.toDecimalString()])).toEqual([
      ['https://llm.example', 'USDC', '52.500000'],
      ['https://search.example', 'USDC', '7.250000'],
      ['https://maps.example', 'EUR', '3.00'],
    ]);
    expect(r.topRecipients?.map((x) => x.value)).toEqual(['https://llm.example', 'https://maps.example']);
    expect(r.byProtocol?.map((x) => [x.value, x.currency, x.count])).toEqual([
      ['acp', 'USDC', 1],
      ['x402', 'USDC', 2],
      ['card', 'EUR', 1],
    ]);
    expect(r.byAction?.map((x) => x.value)).toEqual(['payment', 'payment']);
    // Minute buckets are kept for 2 hours only: the report picks hours for these 4.
    expect(r.series?.granularity).toBe('hour');
    expect(r.series?.truncated).toBe(false);
    const usdc = r.series!.currencies.find((c) => c.currency === 'USDC')!;
    const sum = usdc.points.reduce((acc, p) => acc + p.total.minor, 0n);
    expect(sum).toBe(59_750_000n);
    expect(r.recent.map((x) => x.amount.toDecimalString())).toEqual([
      '3.00',
      '40.000000',
      '7.250000',
      '12.500000',
    ]);
  });

  it('summarises the org and ranks with exact bigint comparisons', () => {
    const { clock, analytics, pay } = world();
    // Amounts beyond 2^53 minor units, differing only in the last unit.
    pay('a', '9007199254.740993', 'USDC', 'r1');
    pay('b', '9007199254.740992', 'USDC', 'r1');
    pay('c', '9007199254.740994', 'USDC', 'r2');
    pay('c', '1.00', 'EUR', 'r3');
    clock.advance(MIN);
    const org = analytics.orgSummary({ top: 2 });
    expect(org.activeAgents).toBe(3);
    expect(org.totals[0]!.total.toDecimalString()).toBe('27021597764.222979');
    expect(org.topAgents?.map((x) => [x.value, x.currency])).toEqual([
      ['c', 'USDC'],
      ['a', 'USDC'],
      ['c', 'EUR'],
    ]);
    expect(org.topRecipients?.map((x) => x.value)).toEqual(['r1', 'r2', 'r3']);
    expect(analytics.leaderboard({ by: 'agent', currency: 'USDC', limit: 3 }).map((x) => x.value)).toEqual([
      'c',
      'a',
      'b',
    ]);
    expect(
      analytics.leaderboard({ by: 'recipient', rankBy: 'count', limit: 1, currency: 'usdc' })[0]!.value,
    ).toBe('r1');
  });

  it('leaves out sections whose index the tracker does not keep', () => {
    const clock = new ManualClock(T0);
    const tracker = new SpendTracker({ clock, indexes: [{ dimensions: ['agent'], granularities: ['day'] }] });
    tracker.record({ agentId: 'a', amount: '1', currency: 'USD', recipient: 'r' });
    const report = new SpendAnalytics({ tracker }).agentReport({ agentId: 'a' });
    expect(report.totals[0]!.total.toDecimalString()).toBe('1.00');
    expect(report.byRecipient).toBeUndefined();
    expect(report.series?.granularity).toBe('day');
    expect(() => new SpendAnalytics({} as never)).toThrow(/needs \{ tracker/);
  });
});
