import type { AuditRecord } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { PaymentIndex } from './payment-index.js';

let seq = 0;
const rec = (data: Record<string, unknown>, at = seq): AuditRecord => ({
  seq: ++seq,
  at,
  type: 't',
  data,
  prevHash: '',
  hash: '',
});

describe('PaymentIndex', () => {
  it('joins chains that turn out to be one payment, and names it by its intent id', () => {
    seq = 0;
    const ix = new PaymentIndex();
    ix.add(rec({ holdId: 'hold_1' }, 10)); // 1: a hold seen before its intent
    ix.add(rec({ approvalId: 'apr_1' }, 11)); // 2: an approval seen alone
    ix.add(rec({ intentId: 'int_1' }, 5)); // 3
    expect(ix.keyOf('hold_1')).toBe('hold_1');
    ix.add(rec({ intentId: 'int_1', holdId: 'hold_1', approvalId: 'apr_1' }, 12)); // 4: the decision links all three
    for (const id of ['int_1', 'hold_1', 'apr_1']) {
      expect(ix.keyOf(id)).toBe('int_1');
      expect(ix.paymentSeqs(id)).toEqual([1, 2, 3, 4]);
    }
    expect(ix.firstAtOf({ approvalId: 'apr_1' })).toBe(5);
    ix.add(rec({ paymentId: 'hold_1' })); // 5: another name for the same hold id
    expect(ix.paymentSeqs('int_1')).toEqual([1, 2, 3, 4, 5]);
    expect(ix.paymentSeqs('nope')).toEqual([]);
  });

  it('indexes agents by time and approvers by name', () => {
    seq = 0;
    const ix = new PaymentIndex();
    ix.add(rec({ agentId: 'a', approvers: ['x', 'y', 'x'] }, 100));
    ix.add(rec({ agentId: 'a', approver: 'y' }, 50));
    ix.add(rec({ agentId: 'b' }, 75));
    expect(ix.agentSeqs('a', 0, 1000)).toEqual([2, 1]);
    expect(ix.agentSeqs('a', 50, 100)).toEqual([2]);
    expect(ix.approverSeqs('x', 0, 1000)).toEqual([1]);
    expect(ix.approverSeqs('y', 0, 1000)).toEqual([2, 1]);
  });

  it('keeps a replaced key joined to its payment through later joins', () => {
    seq = 0;
    const ix = new PaymentIndex();
    ix.add(rec({ paymentId: 'pay_2' })); // 1
    ix.add(rec({ intentId: 'int_1', approvalId: 'apr_1' })); // 2
    ix.add(rec({ paymentId: 'pay_1' })); // 3
    ix.add(rec({ paymentId: 'pay_1' })); // 4
    ix.add(rec({ paymentId: 'pay_2', approvalId: 'apr_1' })); // 5: joins pay_2 with int_1, which names it
    ix.add(rec({ holdId: 'hold_1' })); // 6
    ix.add(rec({ paymentId: 'pay_1', holdId: 'hold_1', approvalId: 'apr_1' })); // 7: joins everything
    for (const id of ['pay_2', 'int_1', 'apr_1', 'pay_1', 'hold_1']) {
      expect(ix.keyOf(id)).toBe('int_1');
      expect(ix.paymentSeqs(id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    }
  });
});
