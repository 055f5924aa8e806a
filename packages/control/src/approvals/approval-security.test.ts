import { SIGNATURE_HEADER, signWebhook } from '@bursar/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApprovalHarness, pay, rejectsWith, setupApprovals } from './__fixtures__/approvals.js';
import { webhookChannel } from './channels/webhook-channel.js';
import { ApprovalErrorCode } from './codes.js';
import { budgetContext } from './context.js';
import type { ApprovalManagerOptions } from './options.js';

const harnesses: ApprovalHarness[] = [];
function setup(options: ApprovalManagerOptions = {}): ApprovalHarness {
  const h = setupApprovals(options);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.approvals.close();
});

const OLD_SECRET = 'old-secret-0123456789abcdef';
const NEW_SECRET = 'new-secret-0123456789abcdef';
const RETIRED_SECRET = 'retired-secret-0123456789ab';

/** A webhook channel whose deliveries always succeed (real HTTP is tested in webhook-channel.test.ts). */
function quietWebhook(secrets: string[]) {
  return webhookChannel({
    url: 'http://127.0.0.1:9/unused',
    secrets,
    fetch: async () => new Response('ok'),
  });
}

describe('approval security', () => {
  it('tampered intent after approval: $45 to A cannot release $4,500 to B', async () => {
    const { engine, approvals, as, held } = setup();
    const a = pay({ amount: '145.00', recipient: 'https://a.example/pay' });
    const d = await engine.authorize(a);
    await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    const b = { ...a, amount: '4500.00', recipient: 'https://b.example/pay' };
    for (const tampered of [b, { ...a, amount: '145.000001' }, { ...a, params: { extra: 1 } }]) {
      const e = await rejectsWith(approvals.complete(d.approvalId!, tampered), ApprovalErrorCode.MISMATCH);
      expect(e.status).toBe(409);
    }
    // A parsed intent carrying the approved hash is hashed again, not trusted.
    const forged = { ...engine.parseIntent(b), hash: d.intentHash };
    await rejectsWith(approvals.complete(d.approvalId!, forged), ApprovalErrorCode.MISMATCH);
    // Nothing changed: the right intent still completes, with the original amount held.
    expect((await approvals.get(d.approvalId!))!.status).toBe('approved');
    expect(await held()).toBe('145.000000');
    const final = await approvals.complete(d.approvalId!, engine.parseIntent(a));
    expect(final).toMatchObject({ outcome: 'allow', holdId: d.holdId });
  });

  it('replayed approval: complete is single-use, also under concurrency', async () => {
    const { engine, approvals, as } = setup();
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    const results = await Promise.allSettled([
      approvals.complete(d.approvalId!, intent),
      approvals.complete(d.approvalId!, intent),
      approvals.complete(d.approvalId!, intent),
    ]);
    const allowed = results.filter((r) => r.status === 'fulfilled');
    expect(allowed).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        code: ApprovalErrorCode.CONSUMED,
        status: 409,
      });
    }
    await rejectsWith(approvals.complete(d.approvalId!, intent), ApprovalErrorCode.CONSUMED);
    // A vote after the fact changes nothing either.
    await rejectsWith(
      approvals.vote(d.approvalId!, { operator: as('bob'), approve: false }),
      ApprovalErrorCode.NOT_PENDING,
    );
  });

  it('replayed signed callback: the second delivery changes nothing', async () => {
    const { engine, approvals, clock } = setup({
      channels: [quietWebhook([NEW_SECRET])],
      routing: { levels: [{ name: 'l', quorum: 2 }] },
    });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    const body = JSON.stringify({ approvalId: d.approvalId, approver: 'carol', approve: true });
    const header = signWebhook({ secret: NEW_SECRET, body, now: clock.now() });
    expect(await approvals.handleWebhookCallback({ header, body })).toMatchObject({ ok: true, status: 200 });
    const replay = await approvals.handleWebhookCallback({ header, body });
    expect(replay).toMatchObject({
      ok: false,
      status: 409,
      reason: 'vote_refused',
      code: ApprovalErrorCode.DUPLICATE_VOTE,
    });
    const view = await approvals.get(d.approvalId!);
    expect(view).toMatchObject({ status: 'pending', votes: [{ approver: 'carol', channel: 'webhook' }] });
  });

  it('self-approval: neither the agent nor its owners may approve (case-insensitive); they may reject', async () => {
    const { engine, approvals, as } = setup({
      owners: (agentId) => (agentId === 'research-bot' ? ['Olivia'] : []),
    });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    for (const who of ['research-bot', 'olivia', ' OLIVIA ']) {
      const e = await rejectsWith(
        approvals.vote(d.approvalId!, { operator: as('gateway'), approver: who, approve: true }),
        ApprovalErrorCode.SELF_APPROVAL,
      );
      expect(e.status).toBe(403);
    }
    expect((await approvals.get(d.approvalId!))!.votes).toEqual([]);
    const v = await approvals.vote(d.approvalId!, {
      operator: as('olivia'),
      approve: false,
      reason: 'not needed',
    });
    expect(v.status).toBe('rejected');
  });

  it('self-approval is allowed only when switched off', async () => {
    const { engine, approvals, as } = setup({ forbidSelfApproval: false });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    const v = await approvals.vote(d.approvalId!, { operator: as('research-bot'), approve: true });
    expect(v.status).toBe('approved');
  });

  it('quorum of two with the same approver twice stays pending', async () => {
    const { engine, approvals, as } = setup({ routing: { levels: [{ name: 'pair', quorum: 2 }] } });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    await rejectsWith(
      approvals.vote(d.approvalId!, { operator: as('alice'), approve: true }),
      ApprovalErrorCode.DUPLICATE_VOTE,
    );
    // Another capability naming the same person (different case) is the same approver.
    await rejectsWith(
      approvals.vote(d.approvalId!, { operator: as('gateway'), approver: 'ALICE', approve: true }),
      ApprovalErrorCode.DUPLICATE_VOTE,
    );
    expect(await approvals.get(d.approvalId!)).toMatchObject({ status: 'pending', required: 2 });
    expect((await approvals.get(d.approvalId!))!.votes).toHaveLength(1);
    expect((await approvals.vote(d.approvalId!, { operator: as('bob'), approve: true })).status).toBe(
      'approved',
    );
  });

  it('expired callback signature (older than 5 minutes) is refused and changes nothing', async () => {
    const { engine, approvals, clock } = setup({ channels: [quietWebhook([NEW_SECRET])] });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    const body = JSON.stringify({ approvalId: d.approvalId, approver: 'carol', approve: true });
    const header = signWebhook({ secret: NEW_SECRET, body, now: clock.now() });
    clock.advance(5 * 60_000 + 1_000);
    expect(await approvals.handleWebhookCallback({ header, body })).toEqual({
      ok: false,
      status: 401,
      reason: 'timestamp_out_of_tolerance',
      message: 'Callback refused: timestamp_out_of_tolerance',
    });
    expect((await approvals.get(d.approvalId!))!).toMatchObject({ status: 'pending', votes: [] });
  });

  it('future-dated signature beyond the tolerance is refused; within it, accepted', async () => {
    const { engine, approvals, clock } = setup({ channels: [quietWebhook([NEW_SECRET])] });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    const body = JSON.stringify({ approvalId: d.approvalId, approver: 'carol', approve: true });
    const future = signWebhook({ secret: NEW_SECRET, body, now: clock.now() + 5 * 60_000 + 1_000 });
    expect(await approvals.handleWebhookCallback({ header: future, body })).toMatchObject({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
    expect((await approvals.get(d.approvalId!))!.votes).toEqual([]);
    const nearFuture = signWebhook({ secret: NEW_SECRET, body, now: clock.now() + 4 * 60_000 });
    expect(await approvals.handleWebhookCallback({ header: nearFuture, body })).toMatchObject({ ok: true });
  });

  it('rotated secret: old and new are accepted during rotation, a retired one is not', async () => {
    const { engine, approvals, clock } = setup({
      channels: [quietWebhook([NEW_SECRET, OLD_SECRET])],
      routing: { levels: [{ name: 'l', quorum: 2 }] },
    });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    const callback = (approver: string, secret: string) => {
      const body = JSON.stringify({ approvalId: d.approvalId, approver, approve: true });
      return approvals.handleWebhookCallback({
        header: signWebhook({ secret, body, now: clock.now() }),
        body,
      });
    };
    expect(await callback('mallory', RETIRED_SECRET)).toMatchObject({
      ok: false,
      reason: 'signature_mismatch',
    });
    expect((await approvals.get(d.approvalId!))!.votes).toEqual([]);
    expect(await callback('carol', OLD_SECRET)).toMatchObject({ ok: true });
    expect(await callback('dan', NEW_SECRET)).toMatchObject({ ok: true, approval: { status: 'approved' } });
  });

  it('a tampered callback body, a missing header and a malformed body are refused', async () => {
    const { engine, approvals, clock } = setup({ channels: [quietWebhook([NEW_SECRET])] });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    const body = JSON.stringify({ approvalId: d.approvalId, approver: 'carol', approve: false });
    const header = signWebhook({ secret: NEW_SECRET, body, now: clock.now() });
    const flipped = body.replace('"approve":false', '"approve":true');
    expect(await approvals.handleWebhookCallback({ header, body: flipped })).toMatchObject({
      reason: 'signature_mismatch',
    });
    expect(await approvals.handleWebhookCallback({ header: undefined, body })).toMatchObject({
      status: 401,
      reason: 'missing_header',
    });
    const junk = '{"approvalId":1}';
    const junkHeader = signWebhook({ secret: NEW_SECRET, body: junk, now: clock.now() });
    expect(await approvals.handleWebhookCallback({ header: junkHeader, body: junk })).toMatchObject({
      status: 400,
      reason: 'invalid_body',
    });
    expect((await approvals.get(d.approvalId!))!.status).toBe('pending');
    expect(SIGNATURE_HEADER).toBe('bursar-signature');
  });

  it('a rejected request cannot be re-raised unchanged within the cool-down', async () => {
    const { engine, approvals, as, clock, held } = setup({ cooldownMs: 600_000 });
    const intent = pay({ amount: '250.00', purpose: 'monthly report' });
    const d = await engine.authorize(intent);
    await approvals.vote(d.approvalId!, { operator: as('bob'), approve: false, reason: 'no' });
    const again = await engine.authorize(intent);
    expect(again.outcome).toBe('deny');
    expect(again.holdId).toBeUndefined();
    expect(again.approvalId).toBeUndefined();
    expect(again.reasons[0]).toMatchObject({
      code: 'approval_cooldown',
      source: 'approval',
      retryAfterMs: 600_000,
      details: { approvalId: d.approvalId, rejectedBy: 'bob' },
    });
    expect(await held()).toBe('0.000000');
    // Rewording the agent-asserted purpose is not a change.
    expect((await engine.authorize({ ...intent, purpose: 'pretty please' })).outcome).toBe('deny');
    // A different amount is a different request.
    expect((await engine.authorize({ ...intent, amount: '249.00' })).outcome).toBe('require_approval');
    clock.advance(600_000);
    expect((await engine.authorize(intent)).outcome).toBe('require_approval');
  });

  it('approver context never reaches the agent', async () => {
    const { engine, approvals, as } = setup({
      contextProviders: [
        budgetContext(),
        { name: 'anomaly', provide: () => ({ zScore: 4.2, note: 'secret-signal' }) },
      ],
    });
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    const forApprover = await approvals.getForApprover(d.approvalId!, as('alice'));
    expect(forApprover.context).toEqual({
      budgets: [
        {
          budgetId: 'day',
          policyId: 'p',
          scope: 'global',
          window: 'daily',
          currency: 'USDC',
          limit: '20000.000000',
          spent: '0.000000',
          held: '250.000000',
          remaining: '19750.000000',
        },
      ],
      anomaly: { zScore: 4.2, note: 'secret-signal' },
    });
    const agentView = await approvals.get(d.approvalId!);
    expect(JSON.stringify(agentView)).not.toContain('secret-signal');
    expect(agentView).not.toHaveProperty('context');
    await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    const final = await approvals.complete(d.approvalId!, intent);
    expect(JSON.stringify([d, final])).not.toContain('secret-signal');
  });
});
