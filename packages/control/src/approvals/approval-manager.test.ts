import { afterEach, describe, expect, it } from 'vitest';
import { type ApprovalHarness, pay, rejectsWith, setupApprovals, T0 } from './__fixtures__/approvals.js';
import { ApprovalManager } from './approval-manager.js';
import { ApprovalErrorCode } from './codes.js';

const harnesses: ApprovalHarness[] = [];
function setup(...args: Parameters<typeof setupApprovals>): ApprovalHarness {
  const h = setupApprovals(...args);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.approvals.close();
});

describe('ApprovalManager lifecycle', () => {
  it('authorize creates a pending request bound to the intent hash, holding the budget', async () => {
    const { engine, approvals, held } = setup();
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    expect(d.outcome).toBe('require_approval');
    expect(d.approvalId).toMatch(/^apr_[0-9a-f]{32}$/);
    expect(await held()).toBe('250.000000');
    const view = await approvals.get(d.approvalId!);
    expect(view).toEqual({
      id: d.approvalId,
      status: 'pending',
      agentId: 'research-bot',
      action: 'payment',
      amount: '250.000000',
      currency: 'USDC',
      recipient: 'https://api.example.com/v1/chat',
      intentHash: d.intentHash,
      createdAt: T0,
      expiresAt: T0 + 15 * 60_000,
      level: 'default',
      required: 1,
      votes: [],
    });
  });

  it('approve then complete: allow with the same hold and an approved reason', async () => {
    const { engine, approvals, as, held } = setup();
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    const v = await approvals.vote(d.approvalId!, {
      operator: as('alice'),
      approve: true,
      reason: 'known vendor',
    });
    expect(v.status).toBe('approved');
    const final = await approvals.complete(d.approvalId!, intent);
    expect(final.outcome).toBe('allow');
    expect(final.holdId).toBe(d.holdId);
    expect(final.approvalId).toBe(d.approvalId);
    const approved = final.reasons.find((r) => r.code === 'approved')!;
    expect(approved.message).toBe(
      'Approved at level default by alice (api) at 2026-03-04T12:00:00.000Z: "known vendor"',
    );
    expect(approved.details).toMatchObject({
      approvers: [{ approver: 'alice', channel: 'api', at: T0, reason: 'known vendor' }],
    });
    expect(await held()).toBe('250.000000'); // still one hold, not two
    await engine.capture(final.holdId!);
    expect((await engine.getBudgetStatus())[0]).toMatchObject({ spent: '250.000000', held: '0.000000' });
    expect((await approvals.get(d.approvalId!))!.status).toBe('consumed');
  });
});

describe('ApprovalManager resolution', () => {
  it('a rejection releases the hold, and complete denies naming who rejected and why', async () => {
    const { engine, approvals, as, held, core } = setup();
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    const v = await approvals.vote(d.approvalId!, {
      operator: as('bob'),
      approve: false,
      reason: 'unknown vendor',
    });
    expect(v).toMatchObject({
      status: 'rejected',
      resolution: { kind: 'votes', by: 'bob', channel: 'api', reason: 'unknown vendor', at: T0 },
    });
    expect(await held()).toBe('0.000000');
    const final = await approvals.complete(d.approvalId!, intent);
    expect(final.outcome).toBe('deny');
    expect(final.holdId).toBeUndefined();
    expect(final.reasons[0]).toMatchObject({
      code: 'approval_rejected',
      message: `Approval ${d.approvalId} was rejected by bob (api) at 2026-03-04T12:00:00.000Z: "unknown vendor"`,
    });
    expect(core.map((e) => [e.type, (e.payload as { status?: string }).status])).toEqual([
      ['approval.requested', undefined],
      ['approval.resolved', 'rejected'],
    ]);
    expect(core[1]!.payload).toMatchObject({
      approvalId: d.approvalId,
      approvers: ['bob'],
      channel: 'api',
      reason: 'unknown vendor',
      amount: '250.000000',
      holdId: d.holdId,
    });
  });

  it('every state change emits a lifecycle event', async () => {
    const { engine, approvals, as, lifecycle } = setup({ routing: { levels: [{ name: 'l', quorum: 2 }] } });
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    await approvals.vote(d.approvalId!, { operator: as('bob'), approve: true });
    await approvals.complete(d.approvalId!, intent);
    expect(
      lifecycle.map((e) => [e.type, (e.payload as { approval?: { status: string } }).approval?.status]),
    ).toEqual([
      ['approval.requested', 'pending'],
      ['approval.voted', 'pending'],
      ['approval.voted', 'approved'],
      ['approval.resolved', 'approved'],
      ['approval.consumed', 'consumed'],
    ]);
    expect(lifecycle[4]!.payload).toMatchObject({ finalOutcome: 'allow' });
  });

  it('expiry with onExpiry deny: expired, hold released, resolved event with status expired', async () => {
    const { engine, approvals, clock, held, core } = setup({ ttlMs: 60_000 });
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    clock.advance(59_999);
    expect(await approvals.expire()).toBe(0);
    expect((await approvals.get(d.approvalId!))!.status).toBe('pending');
    clock.advance(1);
    expect(await approvals.expire()).toBe(1);
    const view = await approvals.get(d.approvalId!);
    expect(view).toMatchObject({ status: 'expired', resolution: { kind: 'expiry', by: 'system:expiry' } });
    expect(await held()).toBe('0.000000');
    expect(core.at(-1)).toMatchObject({
      type: 'approval.resolved',
      payload: { status: 'expired', approvers: [] },
    });
    const final = await approvals.complete(d.approvalId!, intent);
    expect(final.outcome).toBe('deny');
    expect(final.reasons[0]!.code).toBe('approval_expired');
  });

  it('reads expire a due request too, without a sweep', async () => {
    const { engine, approvals, clock, held } = setup({ ttlMs: 60_000 });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    clock.advance(60_000);
    expect((await approvals.get(d.approvalId!))!.status).toBe('expired');
    expect(await held()).toBe('0.000000');
  });

  it('expiry with onExpiry allow: approved by system:expiry, then completes with the original hold', async () => {
    const { engine, approvals, clock, core } = setup({ ttlMs: 60_000, onExpiry: 'allow' });
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    clock.advance(60_000);
    expect(await approvals.expire()).toBe(1);
    const view = await approvals.get(d.approvalId!);
    expect(view).toMatchObject({
      status: 'approved',
      votes: [{ approver: 'system:expiry', approve: true, channel: 'system' }],
    });
    expect(core.at(-1)).toMatchObject({ payload: { status: 'approved', approvers: ['system:expiry'] } });
    const final = await approvals.complete(d.approvalId!, intent);
    expect(final).toMatchObject({ outcome: 'allow', holdId: d.holdId });
  });

  it('a request never outlives its hold', async () => {
    const { engine, approvals } = setup({ ttlMs: 3_600_000 }, undefined, { holdTtlMs: 300_000 });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    expect((await approvals.get(d.approvalId!))!.expiresAt).toBe(T0 + 300_000);
  });

  it('complete on a pending request answers require_approval and changes nothing', async () => {
    const { engine, approvals, held } = setup();
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    const answer = await approvals.complete(d.approvalId!, intent);
    expect(answer).toMatchObject({ outcome: 'require_approval', approvalId: d.approvalId, holdId: d.holdId });
    expect(answer.reasons[0]!.code).toBe('approval_pending');
    expect((await approvals.get(d.approvalId!))!.status).toBe('pending');
    expect(await held()).toBe('250.000000');
  });

  it('the re-check does not count the request’s own hold twice', async () => {
    const policy = {
      id: 'tight',
      rules: [{ action: 'require_approval' as const }],
      budgets: [{ id: 'day', window: 'daily' as const, maxAmount: 300, currency: 'USDC' }],
    };
    const { engine, approvals, as } = setup({}, policy);
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    const final = await approvals.complete(d.approvalId!, intent);
    expect(final.outcome).toBe('allow');
    expect(final.reasons.find((r) => r.code === 'budget_within_limit')).toMatchObject({
      held: '0.000000',
      remaining: '50.000000',
    });
    // The approval satisfies the require_approval rule; it is still listed.
    expect(final.reasons.find((r) => r.code === 'rule_require_approval')).toMatchObject({
      outcome: 'allow',
      details: { satisfiedBy: d.approvalId },
    });
  });

  it('policy is evaluated again: a kill switch engaged after approval denies and releases the hold', async () => {
    const { engine, approvals, as, operator, held, lifecycle } = setup();
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    await engine.setKillSwitch(operator, { scope: 'agent', target: 'research-bot', engaged: true });
    const final = await approvals.complete(d.approvalId!, intent);
    expect(final.outcome).toBe('deny');
    expect(final.holdId).toBeUndefined();
    expect(final.reasons.map((r) => r.code)).toEqual(['kill_switch_engaged', 'approved']);
    expect(await held()).toBe('0.000000');
    expect((await approvals.get(d.approvalId!))!).toMatchObject({ status: 'consumed', finalOutcome: 'deny' });
    expect(lifecycle.at(-1)).toMatchObject({ type: 'approval.consumed', payload: { finalOutcome: 'deny' } });
  });

  it('a hold that expired before complete denies with approval_hold_expired', async () => {
    const { engine, approvals, as, clock } = setup({ ttlMs: 600_000 }, undefined, { holdTtlMs: 600_000 });
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    clock.advance(600_000);
    const final = await approvals.complete(d.approvalId!, intent);
    expect(final.outcome).toBe('deny');
    expect(final.reasons[0]!.code).toBe('approval_hold_expired');
  });

  it('a flag from the re-check is kept', async () => {
    const policy = {
      id: 'f',
      rules: [
        // Agent-asserted conditions never end the scan: the flag combines with the next rule.
        { action: 'flag' as const, code: 'urgent', when: { purpose: { matches: '/urgent/i' } } },
        { action: 'require_approval' as const },
      ],
    };
    const { engine, approvals, as } = setup({}, policy);
    const intent = pay({ amount: '250.00', purpose: 'URGENT renewal' });
    const d = await engine.authorize(intent);
    expect(d.outcome).toBe('require_approval');
    await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    expect((await approvals.complete(d.approvalId!, intent)).outcome).toBe('flag');
  });

  it('cancel rejects, releases the hold and starts no cool-down', async () => {
    const { engine, approvals, operator, held, core } = setup();
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    const v = await approvals.cancel(d.approvalId!, operator, 'duplicate');
    expect(v).toMatchObject({ status: 'rejected', resolution: { kind: 'cancelled', by: 'ops@example.com' } });
    expect(await held()).toBe('0.000000');
    expect(core.at(-1)).toMatchObject({ payload: { status: 'cancelled' } });
    const final = await approvals.complete(d.approvalId!, intent);
    expect(final.reasons[0]!.code).toBe('approval_cancelled');
    expect((await engine.authorize(intent)).outcome).toBe('require_approval');
    await rejectsWith(approvals.cancel(d.approvalId!, operator), ApprovalErrorCode.NOT_PENDING);
  });

  it('a retried authorize with the same idempotency key finds the same request', async () => {
    const { engine, approvals, operator } = setup();
    const intent = pay({ amount: '250.00', idempotencyKey: 'k1' });
    const a = await engine.authorize(intent);
    const b = await engine.authorize(intent);
    expect(b).toMatchObject({ replayed: true, approvalId: a.approvalId, holdId: a.holdId });
    expect(await approvals.list(operator)).toHaveLength(1);
  });
});

describe('waitFor', () => {
  it('resolves when a vote resolves the request', async () => {
    const { engine, approvals, as } = setup();
    const d = await engine.authorize(pay({ amount: '250.00' }));
    const waiting = approvals.waitFor(d.approvalId!, { timeoutMs: 10_000 });
    await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    expect((await waiting).status).toBe('approved');
  });

  it('returns the pending view on timeout and on abort', async () => {
    const { engine, approvals } = setup();
    const d = await engine.authorize(pay({ amount: '250.00' }));
    expect((await approvals.waitFor(d.approvalId!, { timeoutMs: 5 })).status).toBe('pending');
    const controller = new AbortController();
    const waiting = approvals.waitFor(d.approvalId!, { signal: controller.signal });
    controller.abort();
    expect((await waiting).status).toBe('pending');
  });

  it('close() resolves waiters and refuses new requests (the engine then denies)', async () => {
    const { engine, approvals } = setup();
    const d = await engine.authorize(pay({ amount: '250.00' }));
    const waiting = approvals.waitFor(d.approvalId!);
    await approvals.close();
    expect((await waiting).status).toBe('pending');
    const after = await engine.authorize(pay({ amount: '300.00' }));
    expect(after.outcome).toBe('deny');
    expect(after.reasons[0]!.code).toBe('internal_error');
  });

  it('rejects a malformed timeout, and caps a huge one instead of firing at once', async () => {
    const { engine, approvals, as } = setup();
    const d = await engine.authorize(pay({ amount: '250.00' }));
    await rejectsWith(
      approvals.waitFor(d.approvalId!, { timeoutMs: Number.NaN }),
      'ERR_BURSAR_INVALID_ARGUMENT',
    );
    const waiting = approvals.waitFor(d.approvalId!, { timeoutMs: 2 ** 40 });
    await new Promise((r) => setTimeout(r, 20));
    await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    expect((await waiting).status).toBe('approved');
  });

  it('throws NOT_FOUND for an unknown id', async () => {
    const { approvals } = setup();
    await rejectsWith(approvals.waitFor('apr_nope'), ApprovalErrorCode.NOT_FOUND);
    expect(await approvals.get('apr_nope')).toBeUndefined();
  });
});

describe('operators and options', () => {
  it('vote, getForApprover, list and cancel need a capability the engine accepts', async () => {
    const { engine, approvals } = setup();
    const d = await engine.authorize(pay({ amount: '250.00' }));
    const { createOperator } = await import('../operator/index.js');
    const stranger = createOperator({ actor: 'mallory' });
    await rejectsWith(
      approvals.vote(d.approvalId!, { operator: stranger, approve: true }),
      'ERR_BURSAR_UNAUTHORIZED',
    );
    await rejectsWith(
      approvals.vote(d.approvalId!, { operator: { actor: 'x', kind: 'bursar.operator' }, approve: true }),
      'ERR_BURSAR_INVALID_ARGUMENT',
    );
    await rejectsWith(approvals.getForApprover(d.approvalId!, stranger), 'ERR_BURSAR_UNAUTHORIZED');
    await rejectsWith(approvals.list(stranger), 'ERR_BURSAR_UNAUTHORIZED');
    await rejectsWith(approvals.cancel(d.approvalId!, stranger), 'ERR_BURSAR_UNAUTHORIZED');
    expect((await approvals.get(d.approvalId!))!.votes).toEqual([]);
  });

  it('rejects invalid options with paths, and use before attach', async () => {
    expect(() => new ApprovalManager({ ttlMs: -1 })).toThrow(/ttlMs/);
    expect(() => new ApprovalManager({ nope: 1 } as never)).toThrow(/nope|Unrecognized/);
    expect(() => new ApprovalManager({ routing: { levels: [{ name: 'a', upTo: '10' }] } })).toThrow(
      /upTo and currency/,
    );
    expect(
      () => new ApprovalManager({ routing: { levels: [{ name: 'a', approvers: ['x', 'X'], quorum: 2 }] } }),
    ).toThrow(/quorum/);
    expect(() => new ApprovalManager({ routing: { levels: [{ name: 'a' }, { name: 'a' }] } })).toThrow(
      /unique/,
    );
    const lone = new ApprovalManager();
    await rejectsWith(lone.get('apr_x'), ApprovalErrorCode.NOT_ATTACHED);
  });

  it('a manager serves one engine', async () => {
    const { approvals } = setup();
    const { PolicyEngine } = await import('../engine/policy-engine.js');
    expect(() => new PolicyEngine({ approvals })).toThrow(/already attached/);
  });

  it('the background sweep expires requests and close() stops it', async () => {
    const h = setup({ ttlMs: 60_000, sweepIntervalMs: 5 });
    const d = await h.engine.authorize(pay({ amount: '250.00' }));
    h.clock.advance(60_000);
    const view = await h.approvals.waitFor(d.approvalId!, { timeoutMs: 5_000 });
    expect(view.status).toBe('expired');
    await h.approvals.close();
  });
});
