import { type AlertEvent, type BudgetStatus, BursarError, EventBus, ManualClock } from '@bursar/core';
import { afterEach, describe, expect, it } from 'vitest';
import { budgetStatus, captured, decision, FakeBudgets } from '../__fixtures__/events.js';
import { AnomalyDetector } from '../anomaly/anomaly-detector.js';
import { SpendTracker } from '../tracker/spend-tracker.js';
import type { AlertRuleInput } from './alert-rules.js';
import { callbackSink } from './sinks/callback-sink.js';
import { consoleSink } from './sinks/console-sink.js';
import { SpendAlerts, type SpendAlertsOptions } from './spend-alerts.js';

const MIN = 60_000;
const T0 = Date.parse('2026-03-02T10:00:00Z');

const open: SpendAlerts[] = [];
afterEach(async () => {
  for (const a of open.splice(0)) await a.close();
});

function setup(rules: AlertRuleInput[], extra: Partial<SpendAlertsOptions> = {}) {
  const clock = new ManualClock(T0);
  const bus = new EventBus();
  const tracker = new SpendTracker({ clock, bus });
  const sent: AlertEvent[] = [];
  const onBus: AlertEvent[] = [];
  const errors: unknown[] = [];
  bus.on('alert.raised', (a) => {
    onBus.push(a);
  });
  const alerts = new SpendAlerts({
    clock,
    bus,
    tracker,
    rules,
    sinks: [callbackSink((a) => void sent.push(a))],
    onError: (e) => errors.push(e),
    ...extra,
  });
  open.push(alerts);
  const pay = (amount: string, fields: Parameters<typeof captured>[1] = {}) =>
    bus.emit('hold.captured', captured(clock.now(), { amount, ...fields }));
  return { clock, bus, tracker, alerts, sent, onBus, errors, pay };
}

describe('SpendAlerts: de-duplication and cool-down', () => {
  it('sends a storm of identical alerts once per cool-down and reports how many it dropped', () => {
    const s = setup([{ type: 'large_transaction', minAmount: { USD: '1000' } }], { cooldownMs: 10 * MIN });
    for (let i = 0; i < 1000; i++) s.pay('1500.00');
    expect(s.sent).toHaveLength(1);
    expect(s.sent[0]).toMatchObject({
      kind: 'large_transaction',
      severity: 'warning',
      agentId: 'bot',
      dedupKey: 'large_transaction:large_transaction:bot:USD',
      facts: {
        amount: '1500.00',
        currency: 'USD',
        threshold: '1000.00',
        recipient: 'https://api.example.com',
      },
    });
    expect(s.sent[0]!.message).toBe(
      'bot paid 1500.00 USD to https://api.example.com, at or above the large-transaction threshold of 1000.00 USD.',
    );
    s.clock.advance(10 * MIN);
    s.pay('2000.00');
    expect(s.sent).toHaveLength(2);
    expect(s.sent[1]!.facts.suppressedBefore).toBe(999);
    expect(s.sent[1]!.message).toContain('(999 similar alerts suppressed before this one)');
    expect(s.alerts.stats()).toMatchObject({ raised: 2, suppressed: 999 });
    // The same alerts went to the bus as alert.raised.
    expect(s.onBus.map((a) => a.alertId)).toEqual(s.sent.map((a) => a.alertId));
  });

  it('keeps different keys apart and lets a rule set its own cool-down', () => {
    const s = setup([{ type: 'large_transaction', minAmount: { USD: '100', EUR: '100' }, cooldownMs: MIN }]);
    s.pay('150.00', { agentId: 'a' });
    s.pay('150.00', { agentId: 'b' });
    s.pay('150.00', { agentId: 'a', currency: 'EUR' });
    s.pay('150.00', { agentId: 'a' });
    expect(s.sent.map((a) => a.dedupKey)).toEqual([
      'large_transaction:large_transaction:a:USD',
      'large_transaction:large_transaction:b:USD',
      'large_transaction:large_transaction:a:EUR',
    ]);
    s.clock.advance(MIN);
    s.pay('150.00', { agentId: 'a' });
    expect(s.sent).toHaveLength(4);
  });

  it('ignores amounts below the threshold, exactly', () => {
    const s = setup([{ type: 'large_transaction', minAmount: { USDC: '1000' } }]);
    s.pay('999.999999', { currency: 'USDC' });
    expect(s.sent).toHaveLength(0);
    s.pay('1000.000000', { currency: 'USDC' });
    expect(s.sent).toHaveLength(1);
  });

  it('raise() goes through the same de-duplication', () => {
    const s = setup([{ type: 'circuit_open' }]);
    const input = { kind: 'custom', severity: 'info' as const, message: 'hi', dedupKey: 'k', facts: {} };
    expect(s.alerts.raise(input)?.kind).toBe('custom');
    expect(s.alerts.raise(input)).toBeUndefined();
    expect(() => s.alerts.raise({ ...input, dedupKey: '' })).toThrow(BursarError);
  });
});

describe('SpendAlerts: budget_threshold reads the engine’s budget status', () => {
  it('alerts once per window at each threshold, warning then critical', async () => {
    const budgets = new FakeBudgets();
    const s = setup([{ type: 'budget_threshold', checkIntervalMs: 0 }], { budgets });
    budgets.set('bot', '50.00');
    s.pay('1.00');
    await s.alerts.flush();
    expect(s.sent).toHaveLength(0);

    budgets.set('bot', '80.00');
    s.pay('1.00');
    await s.alerts.flush();
    s.pay('1.00');
    await s.alerts.flush();
    expect(s.sent).toHaveLength(1);
    expect(s.sent[0]).toMatchObject({
      kind: 'budget_threshold',
      severity: 'warning',
      facts: { threshold: 80, percentUsed: '80.0', limit: '100.00', spent: '80.00', budgetId: 'daily' },
    });
    expect(s.sent[0]!.message).toBe(
      'bot has used 80.0% of budget daily (policy production, daily, agent:bot): 80.00 of 100.00 USD spent, 0.00 held, 20.00 remaining.',
    );

    budgets.set('bot', '100.01');
    s.pay('1.00');
    await s.alerts.flush();
    expect(s.sent.map((a) => [a.severity, a.facts.threshold])).toEqual([
      ['warning', 80],
      ['critical', 100],
    ]);
    // Still over 100 % later the same day: no new alert (the key is quiet until the window ends).
    s.clock.advance(60 * MIN);
    s.pay('1.00');
    await s.alerts.flush();
    expect(s.sent).toHaveLength(2);
  });

  it('reads status at most once per agent per interval and checks the pending payments after it', async () => {
    const budgets = new FakeBudgets();
    const s = setup([{ type: 'budget_threshold', checkIntervalMs: 10_000 }], { budgets });
    budgets.set('bot', '10.00');
    for (let i = 0; i < 100; i++) s.pay('1.00');
    await s.alerts.flush();
    expect(budgets.reads).toHaveLength(1);
    budgets.set('bot', '95.00'); // the payments above pushed it over 80 %
    s.clock.advance(10_000);
    // Any later event (here another agent's payment) runs the due check of "bot".
    s.pay('1.00', { agentId: 'other' });
    await s.alerts.flush();
    expect(budgets.reads.map((r) => r.agentId)).toEqual(['bot', 'bot', 'other']);
    expect(s.sent.map((a) => a.agentId)).toEqual(['bot']);
  });

  it('runs a backlog of due checks a few per event, never dropping one', async () => {
    const budgets = new FakeBudgets();
    const s = setup([{ type: 'budget_threshold', checkIntervalMs: 10_000 }], { budgets });
    const agents = Array.from({ length: 50 }, (_, i) => `a${i}`);
    for (const agentId of agents) budgets.set(agentId, '10.00');
    // A first payment each reads at once; a second one inside the interval is queued.
    for (const agentId of agents) s.pay('1.00', { agentId });
    await s.alerts.flush();
    for (const agentId of agents) s.pay('1.00', { agentId });
    expect(budgets.reads).toHaveLength(50);
    for (const agentId of agents) budgets.set(agentId, '90.00');
    s.clock.advance(10_000);
    const readsOfQueued = () => budgets.reads.filter((r) => r.agentId !== 'other').length - 50;
    const seen: number[] = [];
    for (let event = 0; event < 8; event++) {
      s.pay('1.00', { agentId: 'other' });
      seen.push(readsOfQueued());
    }
    expect(seen).toEqual([8, 16, 24, 32, 40, 48, 50, 50]);
    await s.alerts.flush();
    // Every queued agent was read again, once, and each crossed 80 %.
    expect(new Set(s.sent.map((a) => a.agentId))).toEqual(new Set(agents));
    expect(s.sent).toHaveLength(50);
  });

  it('evaluates overlapping reads of one agent each with its own result, also after a failed read', async () => {
    // A source whose reads the test settles by hand, in any order.
    const pending: Array<{ resolve: (s: BudgetStatus[]) => void; reject: (e: Error) => void }> = [];
    const fake = new FakeBudgets();
    const budgets = {
      getBudgetStatus: () =>
        new Promise<BudgetStatus[]>((resolve, reject) => {
          pending.push({ resolve, reject });
        }),
    };
    const s = setup([{ type: 'budget_threshold', percents: [80, 100], checkIntervalMs: 0 }], { budgets });
    const status = (spent: string) => {
      fake.set('bot', spent);
      return fake.statuses;
    };
    s.pay('1.00'); // read 0, under way
    const now = s.alerts.checkBudgets('bot'); // read 1 overlaps it
    expect(pending).toHaveLength(2);
    pending[1]!.resolve(status('85.00'));
    await now;
    expect(s.sent.map((a) => a.facts.threshold)).toEqual([80]);
    pending[0]!.resolve(status('100.00'));
    await s.alerts.flush();
    expect(s.sent.map((a) => a.facts.threshold)).toEqual([80, 100]);
    // The agent's own read path is free again, through a failure too.
    s.pay('1.00');
    pending[2]!.reject(new Error('store down'));
    await s.alerts.flush();
    expect((s.errors[0] as BursarError).code).toBe('ERR_BURSAR_OBSERVE_BUDGET_STATUS');
    s.clock.advance(86_400_000);
    s.pay('1.00');
    expect(pending).toHaveLength(4);
    pending[3]!.resolve(status('100.00').map((x) => ({ ...x, windowStart: x.windowStart! + 86_400_000 })));
    await s.alerts.flush();
    expect(s.sent.map((a) => a.facts.threshold)).toEqual([80, 100, 100]);
  });

  it('checkBudgets() reads pending agents at once; failures are reported, not thrown', async () => {
    const budgets = new FakeBudgets();
    const s = setup([{ type: 'budget_threshold', percents: [50], includeHeld: true }], { budgets });
    budgets.set('bot', '10.00');
    s.pay('1.00');
    s.pay('1.00');
    await s.alerts.flush();
    budgets.set('bot', '30.00', '100.00', { held: '20.00' });
    await s.alerts.checkBudgets();
    expect(s.sent[0]?.facts).toMatchObject({ threshold: 50, percentUsed: '50.0', includeHeld: true });
    budgets.fail = new Error('store down');
    s.clock.advance(20_000);
    s.pay('1.00');
    await s.alerts.flush();
    expect((s.errors[0] as BursarError).code).toBe('ERR_BURSAR_OBSERVE_BUDGET_STATUS');
  });
});

describe('SpendAlerts: budget_threshold decides exactly, also where floating point cannot', () => {
  it('at, just below and just above a threshold, with huge amounts, cancellation and untrimmed text', async () => {
    const budgets = new FakeBudgets();
    const s = setup(
      [
        { type: 'budget_threshold', percents: [80], checkIntervalMs: 0 },
        { type: 'budget_threshold', id: 'held', percents: [90], includeHeld: true, checkIntervalMs: 0 },
      ],
      { budgets },
    );
    budgets.statuses = [
      // 79.99…% — a double rounds it to exactly 80.
      budgetStatus('below', { limit: '10000000000000000000000', spent: '7999999999999999999999.99' }),
      budgetStatus('at', { limit: '10000000000000000000000', spent: '8000000000000000000000.00' }),
      budgetStatus('above', { limit: '0.03', spent: '0.025' }), // 83.3 %
      // spent + held is exactly 90 %, but in doubles the two cancel to nonsense.
      budgetStatus('cancel', {
        limit: '100',
        spent: '-1000000000000000000000',
        held: '1000000000000000000090',
      }),
      budgetStatus('spaced', { spent: ' 85.00 ' }), // not a plain decimal: read as before, trimmed
      budgetStatus('tiny', {
        limit: '0.0000000000000000000000000001',
        spent: '0.00000000000000000000000000009',
      }),
      budgetStatus('bad', { limit: '1e2', spent: '90' }),
    ];
    for (const agentId of ['below', 'at', 'above', 'cancel', 'spaced', 'tiny', 'bad'])
      s.pay('1.00', { agentId });
    await s.alerts.flush();
    expect(s.sent.map((a) => [a.agentId, a.facts.rule, a.facts.percentUsed])).toEqual([
      ['at', 'budget_threshold', '80.0'],
      ['above', 'budget_threshold', '83.3'],
      ['cancel', 'held', '90.0'],
      ['spaced', 'budget_threshold', '85.0'],
      ['tiny', 'budget_threshold', '90.0'],
      ['tiny', 'held', '90.0'],
    ]);
    expect(s.errors.map((e) => ((e as BursarError).cause as Error).message)).toEqual([
      'limit must be a decimal string; got "1e2"',
    ]);
  });
});

describe('SpendAlerts: payment rules', () => {
  it('rate_spike counts payments and sums spend in a sliding window', () => {
    const s = setup([{ type: 'rate_spike', windowMs: 60_000, maxCount: 5, maxAmount: { USD: '100' } }]);
    for (let i = 0; i < 5; i++) {
      s.pay('10.00');
      s.clock.advance(1000);
    }
    expect(s.sent).toHaveLength(0);
    s.pay('10.00');
    expect(s.sent[0]).toMatchObject({ kind: 'rate_spike', facts: { payments: 6, maxCount: 5 } });
    s.pay('45.00');
    expect(s.sent[1]).toMatchObject({ facts: { spent: '105.00', maxAmount: '100.00' } });
    expect(s.sent[1]!.message).toBe('bot spent 105.00 USD in the last 60 s (limit 100.00 USD).');
    // After the window slides past, the counts start over.
    s.clock.advance(120_000);
    s.pay('10.00', { agentId: 'calm' });
    expect(s.sent).toHaveLength(2);
  });

  it('sends alerts and facts with their keys in a stable order (what webhook bodies show)', () => {
    const s = setup([{ type: 'large_transaction', minAmount: { USD: '100' } }, { type: 'circuit_open' }]);
    s.pay('150.00');
    s.bus.emit('circuit.state_changed', { at: s.clock.now(), facilitator: 'f1', from: 'closed', to: 'open' });
    const [large, circuit] = s.sent;
    expect(Object.keys(large!)).toEqual([
      'at',
      'alertId',
      'kind',
      'severity',
      'message',
      'agentId',
      'dedupKey',
      'facts',
    ]);
    expect(Object.keys(large!.facts)).toEqual([
      'rule',
      'agentId',
      'amount',
      'currency',
      'recipient',
      'action',
      'protocol',
      'holdId',
      'paymentAt',
      'threshold',
    ]);
    expect(Object.keys(circuit!)).toEqual([
      'at',
      'alertId',
      'kind',
      'severity',
      'message',
      'dedupKey',
      'facts',
    ]);
  });

  it('rate_spike keeps each currency’s sum apart, and each agent’s', () => {
    const s = setup([{ type: 'rate_spike', windowMs: 60_000, maxAmount: { USD: '100', EUR: '50' } }]);
    s.pay('60.00');
    s.pay('30.00', { currency: 'EUR' });
    s.pay('60.00', { agentId: 'other' });
    s.pay('30.00', { currency: 'EUR', agentId: 'other' });
    s.pay('1000.00', { currency: 'USDC' }); // no limit for USDC
    expect(s.sent).toHaveLength(0);
    s.pay('30.00', { currency: 'EUR' });
    expect(s.sent.map((a) => [a.dedupKey, a.facts.spent])).toEqual([
      ['rate_spike:rate_spike:bot:amount:EUR', '60.00'],
    ]);
    s.pay('40.01');
    expect(s.sent.map((a) => [a.dedupKey, a.facts.spent])).toEqual([
      ['rate_spike:rate_spike:bot:amount:EUR', '60.00'],
      ['rate_spike:rate_spike:bot:amount:USD', '100.01'],
    ]);
  });

  it('new_recipient alerts on an agent’s first payment to a recipient (with its own memory)', () => {
    const s = setup([{ type: 'new_recipient', cooldownMs: 0 }]);
    s.pay('1.00', { recipient: 'https://a.example' });
    s.pay('1.00', { recipient: 'https://a.example' });
    s.pay('1.00', { recipient: 'https://b.example' });
    expect(s.sent.map((a) => a.facts.recipient)).toEqual(['https://a.example', 'https://b.example']);
    expect(s.sent[0]).toMatchObject({
      severity: 'info',
      message: 'bot paid https://a.example for the first time (1.00 USD).',
    });
  });

  it('new_recipient and anomaly use the detector, which learns each payment once', () => {
    const clock = new ManualClock(T0);
    const detector = new AnomalyDetector({ clock });
    const s = setup([{ type: 'new_recipient', cooldownMs: 0 }, { type: 'anomaly' }], { detector, clock });
    for (let i = 0; i < 20; i++) {
      s.pay(`${60 + (i % 5)}.00`);
      clock.advance(5 * MIN);
    }
    expect(detector.stats().learned).toBe(20);
    expect(s.sent.map((a) => a.kind)).toEqual(['new_recipient']);
    s.pay('4000.00');
    const anomaly = s.sent.find((a) => a.kind === 'anomaly')!;
    expect(anomaly.severity).toBe('critical');
    expect(anomaly.message).toMatch(
      /^Unusual payment by bot: 4000\.00 USD is about \d+ times what bot usually pays/,
    );
    expect(anomaly.facts).toMatchObject({
      amount: '4000.00',
      signals: [{ code: 'amount_outlier', outcome: 'require_approval' }],
    });
  });

  it('rejects rules whose inputs are missing', () => {
    const tracker = new SpendTracker();
    expect(() => new SpendAlerts({ tracker, rules: [{ type: 'anomaly' }] })).toThrow(
      /anomaly needs a detector/,
    );
    expect(() => new SpendAlerts({ tracker, rules: [{ type: 'budget_threshold' }] })).toThrow(
      /needs budgets/,
    );
    expect(() => new SpendAlerts({ rules: [{ type: 'new_recipient' }] })).toThrow(/needs a tracker/);
    expect(() => new SpendAlerts({ tracker, rules: [{ type: 'rate_spike' }] })).toThrow(
      /maxCount or maxAmount/,
    );
    expect(
      () => new SpendAlerts({ tracker, rules: [{ type: 'new_recipient' }, { type: 'new_recipient' }] }),
    ).toThrow(/used twice/);
    expect(
      () => new SpendAlerts({ tracker, rules: [{ type: 'large_transaction', minAmount: { XYZ: '1' } }] }),
    ).toThrow(expect.objectContaining({ code: 'ERR_BURSAR_UNKNOWN_ASSET' }));
  });
});

describe('SpendAlerts: decisions and circuits', () => {
  it('policy_violation alerts on repeated denies within the window', () => {
    const s = setup([{ type: 'policy_violation', denies: 3, windowMs: 10 * MIN }]);
    s.bus.emit('decision.made', decision(s.clock.now(), 'deny'));
    s.bus.emit('decision.made', decision(s.clock.now(), 'allow'));
    s.clock.advance(11 * MIN);
    s.bus.emit('decision.made', decision(s.clock.now(), 'deny'));
    s.bus.emit('decision.made', decision(s.clock.now(), 'deny'));
    expect(s.sent).toHaveLength(0);
    s.bus.emit('decision.made', decision(s.clock.now(), 'deny'));
    expect(s.sent[0]).toMatchObject({
      kind: 'policy_violation',
      severity: 'warning',
      facts: { denies: 3, latestReasons: ['recipient_blocked'] },
    });
    expect(s.sent[0]!.message).toBe(
      'bot had 3 intents denied in the last 10 min (latest: recipient_blocked).',
    );
  });

  it('circuit_open alerts when a facilitator breaker opens, once per facilitator per cool-down', () => {
    const s = setup([{ type: 'circuit_open' }]);
    const open = {
      at: s.clock.now(),
      facilitator: 'https://x402.example/facilitator',
      from: 'closed',
      to: 'open',
      reason: '5 consecutive failures',
    } as const;
    s.bus.emit('circuit.state_changed', { ...open, from: 'open', to: 'half_open' });
    s.bus.emit('circuit.state_changed', open);
    s.bus.emit('circuit.state_changed', open);
    expect(s.sent).toHaveLength(1);
    expect(s.sent[0]).toMatchObject({
      kind: 'circuit_open',
      severity: 'critical',
      facts: { facilitator: open.facilitator },
    });
    expect(s.sent[0]!.message).toContain('5 consecutive failures');
  });

  it('stops listening after close()', async () => {
    const s = setup([{ type: 'circuit_open' }]);
    await s.alerts.close();
    s.bus.emit('circuit.state_changed', { at: 0, facilitator: 'f', from: 'closed', to: 'open' });
    expect(s.sent).toHaveLength(0);
  });
});

describe('SpendAlerts: sinks', () => {
  it('a failing sink never breaks the payment path; failures are reported', async () => {
    const s = setup([{ type: 'large_transaction', minAmount: { USD: '1' } }], {
      sinks: [
        {
          name: 'throws',
          send: () => {
            throw new Error('sync boom');
          },
        },
        {
          name: 'rejects',
          send: async () => {
            throw new Error('async boom');
          },
        },
      ],
    });
    expect(() => s.pay('5.00')).not.toThrow();
    await s.alerts.flush();
    expect(s.tracker.stats().recorded).toBe(1);
    expect(s.alerts.stats().failedDeliveries).toBe(2);
    expect(s.errors.map((e) => (e as BursarError).code)).toEqual([
      'ERR_BURSAR_OBSERVE_SINK_FAILED',
      'ERR_BURSAR_OBSERVE_SINK_FAILED',
    ]);
  });

  it('the console sink logs by severity', () => {
    const lines: string[] = [];
    const logger = {
      info: (m: string) => lines.push(`info ${m}`),
      warn: (m: string) => lines.push(`warn ${m}`),
      error: (m: string) => lines.push(`error ${m}`),
    };
    const s = setup([{ type: 'circuit_open' }], { sinks: [consoleSink({ logger })] });
    s.alerts.raise({ kind: 'x', severity: 'info', message: 'a', dedupKey: '1', facts: {} });
    s.alerts.raise({ kind: 'x', severity: 'warning', message: 'b', dedupKey: '2', facts: {} });
    s.alerts.raise({ kind: 'x', severity: 'critical', message: 'c', dedupKey: '3', facts: {} });
    expect(lines).toEqual([
      'info [bursar] info x: a',
      'warn [bursar] warning x: b',
      'error [bursar] critical x: c',
    ]);
  });
});
