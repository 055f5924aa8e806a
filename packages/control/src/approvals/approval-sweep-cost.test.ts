import { type ApprovalRecord, type ApprovalStore, MemoryApprovalStore } from '@bursar/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApprovalHarness, pay, setupApprovals, T0 } from './__fixtures__/approvals.js';

/** A memory approval store that records which requests the manager reads or lists. */
function spiedStore() {
  const inner = new MemoryApprovalStore();
  const spy = { got: new Set<string>(), listed: 0, dueReturned: 0 };
  const store: ApprovalStore = {
    create: (r) => inner.create(r),
    update: (r, v) => inner.update(r, v),
    get: (id) => {
      spy.got.add(id);
      return inner.get(id);
    },
    list: (args) => {
      spy.listed++;
      return inner.list(args);
    },
    listDue: async (args): Promise<ApprovalRecord[]> => {
      const due = await inner.listDue(args);
      spy.dueReturned += due.length;
      return due;
    },
  };
  return { store, spy, inner };
}

const reviewAll = {
  id: 'review',
  rules: [{ action: 'require_approval' as const }],
  budgets: [{ id: 'day', window: 'daily', maxAmount: 1_000_000, currency: 'USDC' }],
};

const harnesses: ApprovalHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.approvals.close();
});

describe('the approval sweep costs what is due, not what was ever requested', () => {
  it('expire() reads only the due requests among hundreds pending and resolved', async () => {
    const { store, spy } = spiedStore();
    const h = setupApprovals({ stores: { approvals: store }, ttlMs: 600_000 }, reviewAll, {
      holdTtlMs: 3_600_000,
    });
    harnesses.push(h);
    // 3 requests that will be due, then 150 later ones that will not be, and 100 resolved.
    const due: string[] = [];
    for (let i = 0; i < 3; i++) due.push((await h.engine.authorize(pay({ amount: `${1 + i}` }))).approvalId!);
    h.clock.set(T0 + 300_000);
    for (let i = 0; i < 150; i++) await h.engine.authorize(pay({ amount: `${10 + i}` }));
    for (let i = 0; i < 100; i++) {
      const id = (await h.engine.authorize(pay({ amount: `${200 + i}` }))).approvalId!;
      await h.approvals.vote(id, { operator: h.as('alice'), approve: false });
    }
    h.clock.set(T0 + 600_000);
    spy.got.clear();
    spy.listed = 0;
    spy.dueReturned = 0;

    expect(await h.approvals.expire()).toBe(3);
    expect(spy.listed).toBe(0);
    expect(spy.dueReturned).toBe(3);
    expect([...spy.got].sort()).toEqual([...due].sort());
    for (const id of due) expect((await h.approvals.get(id))!.status).toBe('expired');

    // Nothing is due now: the next sweep reads nothing at all.
    spy.got.clear();
    expect(await h.approvals.expire()).toBe(0);
    expect(spy.got.size).toBe(0);
    expect(spy.dueReturned).toBe(3);
  });

  it('an escalation deadline makes a request due before its expiry', async () => {
    const { store, spy } = spiedStore();
    const h = setupApprovals(
      {
        stores: { approvals: store },
        routing: { levels: [{ name: 'lead', timeoutMs: 60_000 }, { name: 'finance' }] },
      },
      reviewAll,
    );
    harnesses.push(h);
    const d = await h.engine.authorize(pay({ amount: '250' }));
    await h.engine.authorize(pay({ amount: '260' }));
    h.clock.set(T0 + 59_999);
    expect(await h.approvals.expire()).toBe(0);
    h.clock.set(T0 + 60_000);
    spy.got.clear();
    expect(await h.approvals.expire()).toBe(2);
    expect((await h.approvals.get(d.approvalId!))!.level).toBe('finance');
    // Escalated to the last level, without a timeout: due again only at expiry.
    spy.got.clear();
    expect(await h.approvals.expire()).toBe(0);
    expect(spy.got.size).toBe(0);
  });
});
