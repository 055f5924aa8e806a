import { type BursarEventMap, type Decision, type IntentInput, ManualClock } from '@bursar/core';
import type { PolicyEngineOptions } from '../engine/options.js';
import { PolicyEngine } from '../engine/policy-engine.js';
import { createOperator, type OperatorCapability } from '../operator/index.js';
import type { PolicyInput } from '../policy/schema.js';

/** Wednesday 2026-03-04 12:00 UTC. */
export const T0 = Date.parse('2026-03-04T12:00:00Z');

export interface Harness {
  engine: PolicyEngine;
  clock: ManualClock;
  operator: OperatorCapability;
  /** Every event the engine emitted after the initial policies were loaded, in order. */
  events: Array<{ type: keyof BursarEventMap; payload: unknown }>;
}

/** An engine on a manual clock with one operator and an event recorder. */
export function setup(options: PolicyEngineOptions = {}, ...policies: PolicyInput[]): Harness {
  const clock = options.clock instanceof ManualClock ? options.clock : new ManualClock(T0);
  const operator = createOperator({ actor: 'ops@example.com' });
  const engine = new PolicyEngine({ clock, operators: [operator], ...options });
  const events: Harness['events'] = [];
  engine.events.onAny((type, payload) => {
    events.push({ type, payload });
  });
  for (const p of policies) engine.loadPolicy(p);
  events.length = 0;
  return { engine, clock, operator, events };
}

/** A payment intent with defaults. */
export function pay(overrides: Partial<IntentInput> = {}): IntentInput {
  return {
    agentId: 'research-bot',
    amount: '10.00',
    currency: 'USDC',
    recipient: 'https://api.example.com/v1/chat',
    protocol: 'x402',
    ...overrides,
  };
}

/** Reason codes of a decision, in order. */
export function codes(decision: Decision): string[] {
  return decision.reasons.map((r) => r.code);
}

/** The reason with this code (throws when absent, so tests fail loudly). */
export function reason(decision: Decision, code: string) {
  const r = decision.reasons.find((x) => x.code === code);
  if (!r) throw new Error(`no reason ${code} in ${JSON.stringify(codes(decision))}`);
  return r;
}

/** A store that delegates to `inner`, with some methods replaced (for failure and delay tests). */
export function wrapStore<T extends object>(inner: T, overrides: Partial<T>): T {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof T];
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
