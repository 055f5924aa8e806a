import { defaultAssets } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Dimension } from './dimension.js';
import { SpendIndex } from './spend-index.js';
import type { SpendRecord } from './spend-record.js';
import type { SpendSeries } from './spend-series.js';

const RETENTION = { minute: 7_200_000, hour: 604_800_000, day: 34_560_000_000 };
const CURRENCIES = ['USD', 'EUR', 'USDC'] as const;

function record(
  agentId: string,
  recipient: string | undefined,
  action: string,
  protocol: string | undefined,
) {
  return { agentId, recipient, action, protocol } as SpendRecord;
}

const op = fc.record({
  remove: fc.boolean(),
  agent: fc.constantFrom('a', 'b', 'c'),
  recipient: fc.option(fc.constantFrom('r1', 'r2', 'r3'), { nil: undefined }),
  action: fc.constantFrom('payment', 'tool'),
  protocol: fc.option(fc.constantFrom('x402', 'acp'), { nil: undefined }),
  currency: fc.constantFrom(...CURRENCIES),
});

describe('SpendIndex', () => {
  it('one series per combination of values and currency, found again after groups grow and shrink', () => {
    // Indexes of two and three dimensions keep a first value's only rest value as a slot and
    // switch to a Map (and back) as rest values come and go; the look-ups must not notice.
    const shapes: Dimension[][] = [['agent'], ['agent', 'recipient'], ['agent', 'action', 'protocol']];
    fc.assert(
      fc.property(fc.constantFrom(...shapes), fc.array(op, { maxLength: 80 }), (dims, ops) => {
        const index = new SpendIndex(dims, ['day'], RETENTION);
        const model = new Map<string, SpendSeries>();
        for (const o of ops) {
          const r = record(o.agent, o.recipient, o.action, o.protocol);
          const asset = defaultAssets.require(o.currency);
          const key = [
            ...dims.map(
              (d) =>
                (d === 'agent'
                  ? o.agent
                  : d === 'recipient'
                    ? o.recipient
                    : d === 'action'
                      ? o.action
                      : o.protocol) ?? '',
            ),
            o.currency,
          ].join('|');
          const known = model.get(key);
          if (o.remove) {
            if (known === undefined) continue;
            index.remove(known);
            expect(known.removed).toBe(true);
            model.delete(key);
            continue;
          }
          const series = index.seriesFor(r, asset);
          if (known === undefined) {
            expect(series.expiresAt).toBe(0);
            expect(series.currency).toBe(o.currency);
            // Stands in for the tracker, which marks a series as written.
            series.expiresAt = 1;
            model.set(key, series);
          } else {
            expect(series).toBe(known);
          }
        }
        const all = [...index.match(new Map(), undefined)];
        expect(new Set(all)).toEqual(new Set(model.values()));
        expect(all.length).toBe(model.size);
        for (const [key, series] of model) {
          const values = key.split('|');
          const filter = new Map<Dimension, string>([[dims[0]!, values[0]!]]);
          const matched = [...index.match(filter, values[values.length - 1])];
          expect(matched).toContain(series);
          for (const m of matched) expect(m.valueAt(0)).toBe(values[0]);
        }
        const firsts = new Set([...model.keys()].map((k) => k.split('|')[0]));
        expect(new Set(index.firstValues())).toEqual(firsts);
      }),
      { seed: 20260302, verbose: true },
    );
  });

  it('keeps several rest values and currencies of one first value apart', () => {
    const index = new SpendIndex(['agent', 'protocol'], ['day'], RETENTION);
    const usd = defaultAssets.require('USD');
    const eur = defaultAssets.require('EUR');
    const x402 = index.seriesFor(record('a', undefined, 'payment', 'x402'), usd);
    x402.expiresAt = 1;
    const acp = index.seriesFor(record('a', undefined, 'payment', 'acp'), usd);
    acp.expiresAt = 1;
    const x402Eur = index.seriesFor(record('a', undefined, 'payment', 'x402'), eur);
    expect(new Set([x402, acp, x402Eur]).size).toBe(3);
    expect(index.seriesFor(record('a', undefined, 'payment', 'x402'), usd)).toBe(x402);
    index.remove(acp);
    expect(index.seriesFor(record('a', undefined, 'payment', 'x402'), eur)).toBe(x402Eur);
    expect(index.seriesFor(record('a', undefined, 'payment', 'acp'), usd)).not.toBe(acp);
  });
});
