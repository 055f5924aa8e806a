import type { AuditRecord } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReferencePaymentIndex } from '../__fixtures__/reference-payment-index.js';
import { PaymentIndex } from './payment-index.js';

/** Few ids, so records keep naming the same payments and chains join. */
const INTENTS = ['int_1', 'int_2', 'int_3', 'int_4'];
const HOLDS = ['hold_1', 'hold_2', 'hold_3'];
const APPROVALS = ['apr_1', 'apr_2'];
const PAYMENTS = ['pay_1', 'pay_2', 'hold_1'];
const AGENTS = ['a', 'b', ''];
const APPROVERS = ['x', 'y', 'z'];
const ALL_IDS = [...new Set([...INTENTS, ...HOLDS, ...APPROVALS, ...PAYMENTS, '', 'nope'])];

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
const data = fc.record(
  {
    intentId: maybe(fc.constantFrom(...INTENTS, '')),
    paymentId: maybe(fc.constantFrom(...PAYMENTS)),
    holdId: maybe(fc.constantFrom(...HOLDS)),
    approvalId: maybe(fc.constantFrom(...APPROVALS)),
    agentId: maybe(fc.constantFrom(...AGENTS)),
    approvers: maybe(fc.array(fc.oneof(fc.constantFrom(...APPROVERS), fc.integer()), { maxLength: 3 })),
    approver: maybe(fc.constantFrom(...APPROVERS)),
  },
  { requiredKeys: [] },
);
/** Time mostly moves forward; now and then the clock steps back. */
const step = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 5 }) },
  fc.integer({ min: -20, max: -1 }),
);

describe('PaymentIndex against the reference model (the plain-array index it replaced)', () => {
  it('answers every query the same after any sequence of records', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(data, step), { maxLength: 150 }),
        fc.array(fc.tuple(fc.integer({ min: -50, max: 800 }), fc.integer({ min: -50, max: 800 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (records, ranges) => {
          const index = new PaymentIndex();
          const model = new ReferencePaymentIndex();
          let at = 0;
          records.forEach(([d, dt], i) => {
            at += dt;
            const record: AuditRecord = { seq: i + 1, at, type: 't', data: d, prevHash: '', hash: '' };
            index.add(record);
            model.add(record);
          });
          for (const id of ALL_IDS) {
            expect(index.keyOf(id)).toBe(model.keyOf(id));
            expect(index.paymentSeqs(id)).toEqual(model.paymentSeqs(id));
          }
          for (const d of [
            ...INTENTS.map((intentId) => ({ intentId })),
            ...HOLDS.map((holdId) => ({ holdId })),
            ...APPROVALS.map((approvalId) => ({ approvalId })),
            ...PAYMENTS.map((paymentId) => ({ paymentId })),
          ]) {
            expect(index.firstAtOf(d)).toBe(model.firstAtOf(d));
          }
          for (const [from, to] of [
            ...ranges,
            [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
          ] as const) {
            for (const agent of [...AGENTS, 'nobody']) {
              expect(index.agentSeqs(agent, from, to)).toEqual(model.agentSeqs(agent, from, to));
            }
            for (const approver of [...APPROVERS, 'nobody']) {
              expect(index.approverSeqs(approver, from, to)).toEqual(model.approverSeqs(approver, from, to));
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
