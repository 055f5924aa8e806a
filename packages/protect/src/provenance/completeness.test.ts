import type { AuditRecord } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { assessCompleteness, stageOf } from './completeness.js';

let seq = 0;
const rec = (type: string, data: Record<string, unknown> = {}): AuditRecord => ({
  seq: ++seq,
  at: seq,
  type,
  data: { intentId: 'int_1', ...data },
  prevHash: '',
  hash: '',
});

describe('assessCompleteness', () => {
  it('reports a full, approved, settled payment as complete', () => {
    const r = assessCompleteness('int_1', [
      rec('intent.received'),
      rec('decision.made', { outcome: 'require_approval' }),
      rec('approval.requested'),
      rec('approval.resolved', { status: 'approved' }),
      rec('hold.captured'),
      rec('payment.settled'),
    ]);
    expect(r).toMatchObject({
      found: true,
      outcome: 'require_approval',
      status: 'settled',
      missing: [],
      anomalies: [],
      complete: true,
    });
    expect(r.stages.approval).toHaveLength(2);
  });

  it('names missing stages: settled without decision, approval or intent', () => {
    expect(assessCompleteness('p', [rec('payment.settled')]).missing).toEqual(['intent', 'decision']);
    expect(
      assessCompleteness('p', [
        rec('intent.received'),
        rec('decision.made', { outcome: 'require_approval' }),
        rec('payment.settled'),
      ]).missing,
    ).toEqual(['approval']);
    expect(
      assessCompleteness('p', [
        rec('intent.received'),
        rec('decision.made', { outcome: 'allow' }),
        rec('dispute.opened'),
      ]),
    ).toMatchObject({ missing: ['settlement'], status: 'disputed', complete: false });
  });

  it('flags contradictions', () => {
    const r = assessCompleteness('p', [
      rec('intent.received'),
      rec('decision.made', { outcome: 'deny' }),
      rec('payment.settled'),
      rec('payment.settled'),
    ]);
    expect(r.anomalies).toEqual(['settled_after_deny', 'settled_more_than_once']);
    expect(r.complete).toBe(false);
    expect(
      assessCompleteness('p', [
        rec('intent.received'),
        rec('decision.made', { outcome: 'require_approval' }),
        rec('approval.resolved', { status: 'rejected' }),
        rec('payment.settled'),
      ]).anomalies,
    ).toEqual(['settled_after_approval_rejected']);
  });

  it('tells where an unfinished payment stands', () => {
    const status = (...records: AuditRecord[]) => assessCompleteness('p', records).status;
    expect(status()).toBe('unknown');
    expect(status(rec('intent.received'))).toBe('in_progress');
    expect(status(rec('intent.received'), rec('decision.made', { outcome: 'deny' }))).toBe('denied');
    expect(status(rec('intent.received'), rec('decision.made', { outcome: 'require_approval' }))).toBe(
      'awaiting_approval',
    );
    expect(
      status(
        rec('intent.received'),
        rec('decision.made', { outcome: 'require_approval' }),
        rec('approval.resolved', { status: 'expired' }),
      ),
    ).toBe('approval_rejected');
    expect(
      status(
        rec('intent.received'),
        rec('decision.made', { outcome: 'allow' }),
        rec('payment.failed', { ambiguous: true }),
      ),
    ).toBe('in_progress');
    expect(
      status(rec('intent.received'), rec('decision.made', { outcome: 'allow' }), rec('payment.failed')),
    ).toBe('failed');
    expect(
      status(rec('intent.received'), rec('decision.made', { outcome: 'allow' }), rec('hold.expired')),
    ).toBe('released');
    expect(
      assessCompleteness('p', [rec('intent.received'), rec('decision.made', { outcome: 'deny' })]).complete,
    ).toBe(true);
  });

  it('maps record types to stages', () => {
    expect(
      [
        'intent.received',
        'hold.placed',
        'payment.settled',
        'dispute.resolved',
        'recovery.failed',
        'note',
      ].map(stageOf),
    ).toEqual(['intent', 'execution', 'settlement', 'dispute', 'refund', undefined]);
  });
});
