import { allowAll, dailyBudget, PolicyEngine } from '@bursar/control';
import { EventBus, ManualClock } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { governedPayment, type RailAnswer } from './governed.js';
import { Recorder } from './recorder.js';

function setup() {
  const clock = new ManualClock('2026-11-02T09:00:00Z');
  const events = new EventBus();
  const engine = new PolicyEngine({ clock, events, holdTtlMs: 60_000 });
  engine.loadPolicy({ id: 'p', rules: [allowAll()], budgets: [dailyBudget(10, 'USD', { id: 'daily' })] });
  const recorder = new Recorder(events);
  const deps = { engine, approvals: undefined, recorder, approvalWaitMs: 50 };
  const pay = (amount: string, execute: () => Promise<RailAnswer>) =>
    governedPayment(deps, { agentId: 'a', amount, currency: 'USD', recipient: 'shop' }, execute);
  const spent = async () => (await engine.getBudgetStatus({ budgetId: 'daily' }))[0];
  return { clock, engine, recorder, pay, spent };
}

describe('governedPayment', () => {
  it('captures what the rail charged and returns the rest of the hold', async () => {
    const { pay, spent, recorder } = setup();
    const r = await pay('4.00', async () => ({ status: 'charged', amount: '3.50', text: 'charged 3.50' }));
    expect(r.line).toMatchObject({
      hold: 'captured',
      captured: '3.50',
      outcome: 'allowed',
      rail: 'charged 3.50',
    });
    expect(await spent()).toMatchObject({ spent: '3.50', held: '0.00', remaining: '6.50' });
    recorder.close();
  });

  it('releases the hold when the rail definitely declined', async () => {
    const { pay, spent, recorder } = setup();
    const r = await pay('4.00', async () => ({ status: 'declined', text: 'declined' }));
    expect(r.line).toMatchObject({ hold: 'released', outcome: 'failed' });
    expect(await spent()).toMatchObject({ spent: '0.00', held: '0.00' });
    recorder.close();
  });

  it('an unknown outcome, or a rail that throws, stays counted after the hold TTL', async () => {
    const { pay, spent, clock, engine, recorder } = setup();
    await pay('4.00', async () => ({ status: 'unknown', text: 'timeout' }));
    await pay('3.00', async () => {
      throw new Error('socket hang up');
    });
    clock.advance(10 * 60_000); // ten hold lifetimes later
    await engine.expireHolds();
    expect(await spent()).toMatchObject({ spent: '7.00', held: '0.00', remaining: '3.00' });
    expect(recorder.lines.map((l) => l.rail)).toEqual([
      'timeout',
      'outcome unknown (socket hang up): counted as spent until reconciled',
    ]);
    recorder.close();
  });

  it('a denied payment never reaches the rail', async () => {
    const { pay, recorder } = setup();
    let calls = 0;
    const r = await pay('11.00', async () => {
      calls++;
      return { status: 'charged', text: 'x' };
    });
    expect(calls).toBe(0);
    expect(r.decision?.outcome).toBe('deny');
    expect(r.line).toMatchObject({ outcome: 'blocked', reasonCode: 'budget_exceeded' });
    recorder.close();
  });
});
