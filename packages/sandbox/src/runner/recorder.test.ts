import { type Decision, EventBus, type Reason } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { headlineReason, lineOutcome, Recorder } from './recorder.js';

const decision = (outcome: Decision['outcome'], reasons: Reason[], holdId?: string): Decision => ({
  outcome,
  reasons,
  policies: [{ id: 'p', version: '1', hash: 'h' }],
  intentId: `int_${Math.random().toString(16).slice(2)}`,
  intentHash: 'x',
  agentId: 'a',
  evaluatedAt: 0,
  ...(holdId ? { holdId } : {}),
});

const budget = (id: string, remaining: string, currency: string): Reason => ({
  code: 'budget_within_limit',
  message: id,
  outcome: 'allow',
  source: 'budget',
  budgetId: id,
  remaining,
  currency,
});

describe('lineOutcome', () => {
  it('counts a line from the decision and what became of its hold', () => {
    expect(lineOutcome('deny')).toBe('blocked');
    expect(lineOutcome('require_approval', 'held')).toBe('pending');
    expect(lineOutcome('allow', 'held')).toBe('pending');
    expect(lineOutcome('allow', 'captured')).toBe('allowed');
    expect(lineOutcome('flag', 'released')).toBe('failed');
    expect(lineOutcome('allow', 'expired')).toBe('failed');
    expect(lineOutcome('allow', 'none')).toBe('allowed');
  });
});

describe('headlineReason', () => {
  it('shows the budget with the least left, compared exactly (18 decimals)', () => {
    const d = decision('allow', [
      { code: 'allowed', message: 'ok', outcome: 'allow', source: 'rule' },
      budget('wide', '1.000000000000000002', 'ETH'),
      budget('tight', '1.000000000000000001', 'ETH'),
    ]);
    expect(headlineReason(d)?.budgetId).toBe('tight');
  });

  it('shows the most restrictive reason of a denial', () => {
    const deny: Reason = { code: 'budget_exceeded', message: 'no', outcome: 'deny', source: 'budget' };
    expect(headlineReason(decision('deny', [deny, budget('b', '1', 'USD')]))?.code).toBe('budget_exceeded');
  });
});

describe('Recorder', () => {
  it('makes one line per decision and follows its hold to capture', () => {
    const bus = new EventBus();
    const recorder = new Recorder(bus, {
      displayRecipient: (r) => r?.replace('http://127.0.0.1:5555', 'shop'),
    });
    const d = decision('allow', [budget('daily', '4.00', 'USD')], 'hold_1');
    bus.emit('decision.made', {
      at: 0,
      agentId: 'a',
      amount: '1.00',
      currency: 'USD',
      recipient: 'http://127.0.0.1:5555/x',
      decision: d,
    });
    bus.emit('hold.captured', { at: 1, agentId: 'a', holdId: 'hold_1', amount: '1.00', captured: '0.75' });
    recorder.finalize();
    expect(recorder.lines).toEqual([
      expect.objectContaining({
        recipient: 'shop/x',
        outcome: 'allowed',
        hold: 'captured',
        captured: '0.75',
        reasonCode: 'budget_within_limit',
      }),
    ]);
    recorder.close();
    bus.emit('decision.made', { at: 2, agentId: 'a', decision: decision('deny', []) });
    expect(recorder.lines).toHaveLength(1);
  });

  it('track() gives each concurrent call its own lines', async () => {
    const bus = new EventBus();
    const recorder = new Recorder(bus);
    const decide = async (agentId: string) => {
      await new Promise((r) => setImmediate(r));
      bus.emit('decision.made', { at: 0, agentId, decision: decision('allow', []) });
    };
    const [x, y] = await Promise.all([recorder.track(() => decide('x')), recorder.track(() => decide('y'))]);
    expect(x.lines.map((l) => l.agentId)).toEqual(['x']);
    expect(y.lines.map((l) => l.agentId)).toEqual(['y']);
    recorder.close();
  });
});
