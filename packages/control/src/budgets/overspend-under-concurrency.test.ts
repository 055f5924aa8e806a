import { type BudgetStatus, ManualClock, MemorySpendStore, Money, type SpendStore } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { T0, wrapStore } from '../__fixtures__/engine.js';
import { PolicyEngine } from '../engine/policy-engine.js';
import type { PolicyInput } from '../policy/schema.js';

const policy: PolicyInput = {
  id: 'p',
  rules: [{ action: 'allow' }],
  budgets: [
    { id: 'global', window: 'daily', maxAmount: '100', currency: 'USDC' },
    { id: 'agent', scope: 'agent', window: 'rolling:1h', maxAmount: '40', currency: 'USDC' },
  ],
  rateLimits: [{ id: 'calls', scope: 'agent', window: 'hourly', maxCount: 12 }],
};
const LIMITS = { global: 100_000_000n, agent: 40_000_000n, calls: 12n };
const AGENTS = ['a', 'b', 'c', 'd'];

/** Random yields: microtasks, or a macrotask, so operations interleave differently each run. */
async function yieldRandomly(n: number): Promise<void> {
  for (let i = 0; i < n % 4; i++) {
    if (n % 3 === 0) await new Promise((r) => setImmediate(r));
    else await Promise.resolve();
  }
}

const op = fc.record({
  agent: fc.constantFrom(...AGENTS),
  amount: fc.integer({ min: 1, max: 15_000_000 }),
  finish: fc.constantFrom('capture', 'partial', 'release', 'both', 'nothing'),
  before: fc.nat(12),
  after: fc.nat(12),
});

describe('no overspend under concurrency', () => {
  it('random interleavings of hundreds of authorize/capture/release never exceed a limit; each hold resolves once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 100, maxLength: 300 }),
        fc.nat(7),
        async (ops, delaySeed) => {
          const inner = new MemorySpendStore();
          let calls = 0;
          // A store that answers after random delays, like a remote one; atomicity is the store's.
          const spend = wrapStore<SpendStore>(inner, {
            placeHold: async (req) => {
              await yieldRandomly(calls++ + delaySeed);
              return inner.placeHold(req);
            },
            captureHold: async (id, o) => {
              await yieldRandomly(calls++ + delaySeed);
              return inner.captureHold(id, o);
            },
            releaseHold: async (id, o) => {
              await yieldRandomly(calls++ + delaySeed);
              return inner.releaseHold(id, o);
            },
          });
          const clock = new ManualClock(T0);
          const engine = new PolicyEngine({ clock, stores: { spend } });
          engine.loadPolicy(policy);

          const resolutions = new Map<string, number>();
          let violations = 0;
          const minor = (s: BudgetStatus, v: string) =>
            s.kind === 'amount' ? Money.parse(v, 'USDC').minor : BigInt(v);
          const checkLimits = async (agentId: string) => {
            for (const s of await engine.getBudgetStatus({ agentId })) {
              const limit = LIMITS[s.budgetId as keyof typeof LIMITS];
              expect(minor(s, s.limit)).toBe(limit);
              if (minor(s, s.spent) + minor(s, s.held) > limit) violations++;
            }
          };
          const run = async (o: (typeof ops)[number]) => {
            await yieldRandomly(o.before);
            const d = await engine.authorize({
              agentId: o.agent,
              amount: (o.amount / 1e6).toFixed(6),
              currency: 'USDC',
            });
            if (!d.holdId) return;
            await yieldRandomly(o.after);
            const attempts: Array<Promise<unknown>> = [];
            if (o.finish === 'capture' || o.finish === 'both') attempts.push(engine.capture(d.holdId));
            if (o.finish === 'partial')
              attempts.push(engine.capture(d.holdId, { amount: (o.amount / 2e6).toFixed(6) }));
            if (o.finish === 'release' || o.finish === 'both') attempts.push(engine.release(d.holdId));
            if (o.finish !== 'nothing') attempts.push(engine.release(d.holdId)); // a duplicate that must lose
            const settled = await Promise.allSettled(attempts);
            if (attempts.length > 0)
              resolutions.set(d.holdId, settled.filter((s) => s.status === 'fulfilled').length);
            else unresolved.push(d.holdId);
            await checkLimits(o.agent);
          };
          const unresolved: string[] = [];
          await Promise.all(ops.map(run));

          for (const agent of AGENTS) await checkLimits(agent);
          expect(violations).toBe(0);
          // Every resolution attempted on a hold won exactly once; the others stayed held.
          for (const [, wins] of resolutions) expect(wins).toBe(1);
          for (const id of unresolved) expect((await engine.getHold(id))!.state).toBe('held');
          // The store's counters agree with the holds: sum the holds ourselves and compare.
          let captured = 0n;
          let held = 0n;
          for (const id of [...resolutions.keys(), ...unresolved]) {
            const h = (await engine.getHold(id))!;
            if (h.state === 'captured') captured += h.captured;
            if (h.state === 'held') held += h.amount;
          }
          const global = (await engine.getBudgetStatus()).find((s) => s.budgetId === 'global')!;
          expect([minor(global, global.spent), minor(global, global.held)]).toEqual([captured, held]);
          expect(captured + held).toBeLessThanOrEqual(LIMITS.global);
        },
      ),
      { numRuns: 25 },
    );
  });
});
