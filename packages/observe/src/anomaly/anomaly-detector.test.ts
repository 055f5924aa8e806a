import { EventBus, ManualClock, Money, OUTCOMES, parseIntent } from '@bursar/core';
import { afterEach, describe, expect, it } from 'vitest';
import { captured, decision } from '../__fixtures__/events.js';
import { SpendTracker } from '../tracker/spend-tracker.js';
import { AnomalyDetector } from './anomaly-detector.js';
import type { AnomalyDetectorOptions } from './detector-options.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2026-03-02T09:00:00Z');
const R = 'https://api.example.com/v1/chat';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

function setup(options: AnomalyDetectorOptions = {}) {
  const clock = new ManualClock(T0);
  const bus = new EventBus();
  const tracker = new SpendTracker({ clock, bus });
  const detector = new AnomalyDetector({ clock, ...options });
  closers.push(detector.attach(tracker), () => tracker.close());
  const pay = (amount: string, fields: Parameters<typeof captured>[1] = {}) =>
    bus.emit('hold.captured', captured(clock.now(), { agentId: 'bot', recipient: R, amount, ...fields }));
  const intent = (amount: string, fields: Record<string, unknown> = {}) =>
    parseIntent({ agentId: 'bot', amount, currency: 'USD', recipient: R, ...fields }, { clock });
  return { clock, bus, tracker, detector, pay, intent };
}

/** 30 payments between 50 and 90 USD, one every 10 minutes. */
function steadyHistory(s: ReturnType<typeof setup>) {
  for (let i = 0; i < 30; i++) {
    s.pay(`${i === 0 ? 50 : i === 1 ? 90 : 50 + ((i * 7) % 41)}.00`);
    s.clock.advance(10 * MIN);
  }
}

describe('AnomalyDetector: amount outliers', () => {
  it('flags $5,000 after a steady $50–$90 history, with an explanation in words', () => {
    const s = setup();
    steadyHistory(s);
    const signals = s.detector.signals(s.intent('5000'), { now: s.clock.now() });
    const outlier = signals.find((x) => x.code === 'amount_outlier');
    expect(outlier?.outcome).toBe('require_approval');
    expect(outlier?.score).toBeGreaterThan(15);
    expect(outlier?.message).toMatch(
      /^5000\.00 USD is about \d+ times what bot usually pays https:\/\/api\.example\.com\/v1\/chat/,
    );
    expect(outlier?.message).toContain('30 past payments from 50.00 USD to 90.00 USD');
    expect(outlier?.details).toMatchObject({ amount: '5000.00', min: '50.00', max: '90.00', samples: 30 });
    // An ordinary amount raises nothing.
    expect(s.detector.signals(s.intent('72.00'), { now: s.clock.now() })).toEqual([]);
  });

  it('does not turn a constant history into an automatic block', () => {
    const s = setup();
    for (let i = 0; i < 40; i++) {
      s.pay('50.00');
      s.clock.advance(10 * MIN);
    }
    for (const amount of ['50.01', '52.00', '55.00', '60.00']) {
      expect(s.detector.signals(s.intent(amount), { now: s.clock.now() })).toEqual([]);
    }
    const huge = s.detector.signals(s.intent('1000000'), { now: s.clock.now() });
    expect(huge.map((x) => x.outcome)).toEqual(['require_approval']);
    expect(huge.every((x) => x.outcome !== 'deny')).toBe(true);
  });

  it('never allows and never denies unless a deny score is configured', () => {
    const plain = setup();
    steadyHistory(plain);
    const outcomes = plain.detector
      .signals(plain.intent('99999'), { now: plain.clock.now() })
      .map((x) => x.outcome);
    expect(outcomes.length).toBeGreaterThan(0);
    for (const o of outcomes) expect(['flag', 'require_approval']).toContain(o);

    const strict = setup({ amount: { denyScore: 12 } });
    steadyHistory(strict);
    expect(strict.detector.signals(strict.intent('99999'), { now: strict.clock.now() })[0]?.outcome).toBe(
      'deny',
    );
    expect(OUTCOMES).toContain('allow'); // the type has allow; signals never carry it
  });

  it('needs a minimum number of samples before judging amounts', () => {
    const s = setup();
    for (let i = 0; i < 9; i++) s.pay('50.00');
    expect(s.detector.signals(s.intent('5000'), { now: s.clock.now() })).toEqual([]);
    s.pay('50.00');
    expect(s.detector.signals(s.intent('5000'), { now: s.clock.now() })[0]?.code).toBe('amount_outlier');
  });

  it('falls back to the agent × action baseline for a recipient with little history', () => {
    const s = setup({ firstTimeRecipient: false });
    steadyHistory(s);
    const signals = s.detector.signals(s.intent('5000', { recipient: 'https://new.example.com' }), {
      now: s.clock.now(),
    });
    expect(signals[0]).toMatchObject({ code: 'amount_outlier', details: { baseline: 'agent_action' } });
    expect(signals[0]?.message).toContain('usually spends on payment');
  });

  it('is not dragged by one executed outlier (updates are clipped)', () => {
    const s = setup();
    steadyHistory(s);
    const before = s.detector.baseline({ agentId: 'bot', recipient: R, currency: 'usd' })!;
    s.pay('5000.00');
    const after = s.detector.baseline({ agentId: 'bot', recipient: R, currency: 'USD' })!;
    expect(after.samples).toBe(before.samples + 1);
    expect(after.max.toDecimalString()).toBe('5000.00');
    expect(after.typical / before.typical).toBeLessThan(1.1);
    expect(s.detector.signals(s.intent('5000'), { now: s.clock.now() })[0]?.outcome).toBe('require_approval');
  });
});

describe('AnomalyDetector: only executed spend forms the baseline', () => {
  it('ignores blocked attempts and assessments', () => {
    const s = setup();
    steadyHistory(s);
    const before = s.detector.baseline({ agentId: 'bot', recipient: R, currency: 'USD' });
    const learned = s.detector.stats().learned;
    for (let i = 0; i < 50; i++) {
      // The engine asks, then denies: nothing is captured.
      s.detector.signals(s.intent('5000'), { now: s.clock.now() });
      s.bus.emit(
        'decision.made',
        decision(s.clock.now(), 'deny', { agentId: 'bot', amount: '5000.00', recipient: R }),
      );
      s.bus.emit('hold.released', {
        at: s.clock.now(),
        agentId: 'bot',
        holdId: `h${i}`,
        amount: '5000.00',
        currency: 'USD',
      });
    }
    expect(s.detector.baseline({ agentId: 'bot', recipient: R, currency: 'USD' })).toEqual(before);
    expect(s.detector.stats().learned).toBe(learned);
    expect(s.detector.signals(s.intent('5000'), { now: s.clock.now() })[0]?.outcome).toBe('require_approval');
  });

  it('observes a record once even when asked twice', () => {
    const s = setup();
    const record = s.tracker.record({ agentId: 'x', amount: '1', currency: 'USD' })!;
    const first = s.detector.observe(record);
    expect(s.detector.observe(record)).toBe(first);
    expect(s.detector.stats().learned).toBe(1);
  });
});

describe('AnomalyDetector: frequency, hour and recipient signals', () => {
  it('detects a burst against the agent’s usual rate', () => {
    const s = setup();
    for (let i = 0; i < 60; i++) {
      s.pay('10.00');
      s.clock.advance(MIN);
    }
    const codes: string[][] = [];
    for (let i = 0; i < 20; i++) {
      codes.push(s.detector.signals(s.intent('10.00'), { now: s.clock.now() }).map((x) => x.code));
      s.pay('10.00');
      s.clock.advance(1500);
    }
    expect(codes.slice(0, 3).flat()).not.toContain('frequency_burst');
    expect(codes[19]).toContain('frequency_burst');
    const burst = s.detector
      .signals(s.intent('10.00'), { now: s.clock.now() })
      .find((x) => x.code === 'frequency_burst')!;
    expect(burst.message).toMatch(
      /bot made 21 payments in the last 60 s \(this one included\); its usual rate is about 1\.\d per 60 s/,
    );
    expect(burst.outcome).toBe('require_approval');
  });

  it('does not call a steady high rate a burst', () => {
    const s = setup();
    for (let i = 0; i < 60 * 20; i++) {
      if (i > 60 * 15) expect(s.detector.signals(s.intent('10.00'), { now: s.clock.now() })).toEqual([]);
      s.pay('10.00');
      s.clock.advance(3000);
    }
  });

  it('flags an hour the agent never pays in, in its time zone', () => {
    const s = setup({ timeZone: 'Europe/Berlin' });
    s.clock.set('2026-01-05T08:00:00Z'); // 09:00 in Berlin (UTC+1)
    for (let day = 0; day < 20; day++) {
      for (let h = 0; h < 8; h++) {
        s.pay('20.00');
        s.clock.advance(HOUR);
      }
      s.clock.advance(16 * HOUR);
    }
    s.clock.set('2026-01-26T02:30:00Z'); // 03:30 in Berlin
    const hour = s.detector
      .signals(s.intent('20.00'), { now: s.clock.now() })
      .find((x) => x.code === 'unusual_hour');
    expect(hour).toMatchObject({
      outcome: 'flag',
      details: { hour: 3, timeZone: 'Europe/Berlin', paymentsInHour: 0 },
    });
    expect(hour?.message).toContain('between 03:00 and 04:00 (Europe/Berlin)');
    s.clock.set('2026-01-26T10:30:00Z'); // 11:30 in Berlin: usual
    expect(s.detector.signals(s.intent('20.00'), { now: s.clock.now() })).toEqual([]);
  });

  it('flags (never blocks) a first-time recipient once the agent has a history', () => {
    const s = setup();
    s.pay('10.00');
    expect(
      s.detector.signals(s.intent('10', { recipient: 'https://b.example' }), { now: s.clock.now() }),
    ).toEqual([]);
    s.pay('10.00');
    s.pay('10.00');
    const [signal] = s.detector.signals(s.intent('10', { recipient: 'https://b.example' }), {
      now: s.clock.now(),
    });
    expect(signal).toMatchObject({ code: 'first_time_recipient', outcome: 'flag' });
    expect(signal?.message).toBe(
      'bot has never paid https://b.example before (3 earlier payments to 1 other recipients).',
    );
  });

  it('says nothing about intents without an amount (tool calls)', () => {
    const s = setup();
    steadyHistory(s);
    const tool = parseIntent({ agentId: 'bot', action: 'delete_repo', recipient: 'https://elsewhere' });
    expect(s.detector.signals(tool, { now: s.clock.now() })).toEqual([]);
  });

  it('assess() is pure and keeps currencies apart', () => {
    const s = setup();
    steadyHistory(s);
    const eur = s.detector.assess({
      agentId: 'bot',
      amount: Money.parse('5000', 'EUR'),
      recipient: R,
      at: s.clock.now(),
    });
    expect(eur.signals).toEqual([]);
    expect(eur.firstTimeRecipient).toBe(false);
  });

  it('stays within its caps, forgetting the least recently used first', () => {
    const s = setup({ maxRecipientsPerAgent: 3, maxBaselines: 50 });
    for (let i = 0; i < 10; i++) {
      s.pay('10.00', { recipient: 'https://regular.example' });
      s.pay('10.00', { recipient: `https://once-${i}.example` });
    }
    // The regular recipient survived; one-off recipients were forgotten past 3 per agent.
    expect(
      s.detector.baseline({ agentId: 'bot', recipient: 'https://regular.example', currency: 'USD' })?.samples,
    ).toBe(10);
    expect(
      s.detector.baseline({ agentId: 'bot', recipient: 'https://once-0.example', currency: 'USD' }),
    ).toBeUndefined();
    for (let a = 0; a < 40; a++)
      s.pay('10.00', { agentId: `agent-${a}`, recipient: `https://r-${a}.example` });
    const st = s.detector.stats();
    expect(st.baselines).toBeLessThanOrEqual(50);
    expect(st.evicted).toBeGreaterThan(0);
  });

  it('validates its options', () => {
    expect(() => new AnomalyDetector({ amount: { flagScore: 9, approvalScore: 3 } })).toThrow(
      /approvalScore/,
    );
    expect(() => new AnomalyDetector({ timeZone: 'Nowhere/Land' })).toThrow(/IANA/);
    expect(
      () => new AnomalyDetector({ burst: false, hour: false, amount: false, firstTimeRecipient: false }),
    ).not.toThrow();
  });
});
