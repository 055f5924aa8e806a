import { afterEach, describe, expect, it } from 'vitest';
import type { PolicyInput } from '../policy/schema.js';
import { type ApprovalHarness, pay, setupApprovals } from './__fixtures__/approvals.js';

/** Every payment needs approval and carries 40 risk points; an agent may reach 60 a day. */
const riskyPolicy: PolicyInput = {
  id: 'risky',
  rules: [{ id: 'review', action: 'require_approval', risk: 40 }],
  budgets: [{ id: 'day', window: 'daily', maxAmount: 10_000, currency: 'USDC' }],
  risk: { threshold: 60, window: 'daily' },
};

const harnesses: ApprovalHarness[] = [];
function setup(): ApprovalHarness {
  const h = setupApprovals({}, riskyPolicy);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.approvals.close();
});

const riskOf = async (h: ApprovalHarness) => (await h.engine.getAgentStatus('research-bot')).risk[0]!.total;

describe('approved actions add cumulative risk', () => {
  it('a 40-point action approved once counts 40; the next one is denied against a threshold of 60', async () => {
    const h = setup();
    const intent = pay({ amount: '100.00' });
    const d1 = await h.engine.authorize(intent);
    expect(d1.outcome).toBe('require_approval');
    await h.approvals.vote(d1.approvalId!, { operator: h.as('alice'), approve: true });
    const final1 = await h.approvals.complete(d1.approvalId!, intent);
    expect(final1.outcome).toBe('allow');
    expect(await riskOf(h)).toBe(40);
    await h.engine.capture(final1.holdId!);

    const d2 = await h.engine.authorize(pay({ amount: '50.00' }));
    expect(d2.outcome).toBe('deny');
    expect(d2.reasons[0]).toMatchObject({
      code: 'risk_threshold_exceeded',
      details: { total: 40, points: 40 },
    });
    expect(await riskOf(h)).toBe(40);
    expect((await h.engine.getBudgetStatus())[0]).toMatchObject({ spent: '100.000000', held: '0.000000' });
  });

  it('two pending 40-point requests approved together: the second completion is denied and released', async () => {
    const h = setup();
    const a = pay({ amount: '100.00' });
    const b = pay({ amount: '200.00' });
    const da = await h.engine.authorize(a);
    const db = await h.engine.authorize(b);
    expect([da.outcome, db.outcome]).toEqual(['require_approval', 'require_approval']);
    await h.approvals.vote(da.approvalId!, { operator: h.as('alice'), approve: true });
    await h.approvals.vote(db.approvalId!, { operator: h.as('alice'), approve: true });

    const fa = await h.approvals.complete(da.approvalId!, a);
    expect(fa).toMatchObject({ outcome: 'allow', holdId: da.holdId });
    const fb = await h.approvals.complete(db.approvalId!, b);
    expect(fb.outcome).toBe('deny');
    expect(fb.holdId).toBeUndefined();
    expect(fb.reasons[0]).toMatchObject({ code: 'risk_threshold_exceeded', outcome: 'deny' });
    expect(await riskOf(h)).toBe(40);
    expect((await h.engine.getHold(db.holdId!))?.state).toBe('released');
    expect((await h.engine.getBudgetStatus())[0]).toMatchObject({ held: '100.000000' });
    expect(await h.approvals.get(db.approvalId!)).toMatchObject({ status: 'consumed', finalOutcome: 'deny' });
  });

  it('concurrent completions add risk atomically: exactly one of two 40-point approvals is allowed', async () => {
    const h = setup();
    const a = pay({ amount: '100.00' });
    const b = pay({ amount: '200.00' });
    const [da, db] = [await h.engine.authorize(a), await h.engine.authorize(b)];
    await h.approvals.vote(da.approvalId!, { operator: h.as('alice'), approve: true });
    await h.approvals.vote(db.approvalId!, { operator: h.as('alice'), approve: true });
    const finals = await Promise.all([
      h.approvals.complete(da.approvalId!, a),
      h.approvals.complete(db.approvalId!, b),
    ]);
    expect(finals.map((f) => f.outcome).sort()).toEqual(['allow', 'deny']);
    const denied = finals.find((f) => f.outcome === 'deny')!;
    expect(denied.reasons[0]!.code).toBe('risk_threshold_exceeded');
    expect(await riskOf(h)).toBe(40);
    const allowed = finals.find((f) => f.outcome === 'allow')!;
    expect((await h.engine.getBudgetStatus())[0]!.held).toBe(
      allowed === finals[0] ? '100.000000' : '200.000000',
    );
  });
});
