import { Money, parseIntent } from '@bursar/core';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ApprovalHarness,
  channelOutcomes,
  pay,
  rejectsWith,
  setupApprovals,
  T0,
} from './__fixtures__/approvals.js';
import { ApprovalErrorCode } from './codes.js';
import { ApprovalRouting, type ApprovalRoutingInput } from './options.js';
import { compareDecimal, routeLevel } from './routing.js';

const routing: ApprovalRoutingInput = {
  levels: [
    {
      name: 'team-lead',
      upTo: '1000',
      currency: 'USDC',
      approvers: ['alice', 'bob'],
      quorum: 1,
      timeoutMs: 60_000,
    },
    { name: 'finance', approvers: ['carol', 'dan'], quorum: 2 },
  ],
};

const harnesses: ApprovalHarness[] = [];
function setup(...args: Parameters<typeof setupApprovals>): ApprovalHarness {
  const h = setupApprovals(...args);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.approvals.close();
});

describe('routing by amount', () => {
  it('up to 1000 USDC (inclusive) goes to the team lead, above to finance', async () => {
    const { engine, approvals } = setup({ routing });
    const at1000 = await engine.authorize(pay({ amount: '1000.00' }));
    const above = await engine.authorize(pay({ amount: '1000.000001' }));
    expect(await approvals.get(at1000.approvalId!)).toMatchObject({ level: 'team-lead', required: 1 });
    expect(await approvals.get(above.approvalId!)).toMatchObject({ level: 'finance', required: 2 });
  });

  it('only approvers of the current level may vote; finance needs two distinct approvals', async () => {
    const { engine, approvals, as, held } = setup({ routing });
    const intent = pay({ amount: '4500.00' });
    const d = await engine.authorize(intent);
    await rejectsWith(
      approvals.vote(d.approvalId!, { operator: as('alice'), approve: true }),
      ApprovalErrorCode.NOT_ALLOWED,
    );
    const one = await approvals.vote(d.approvalId!, {
      operator: as('carol'),
      approve: true,
      reason: 'budgeted',
    });
    expect(one).toMatchObject({ status: 'pending', votes: [{ approver: 'carol', level: 'finance' }] });
    const two = await approvals.vote(d.approvalId!, { operator: as('dan'), approve: true });
    expect(two.status).toBe('approved');
    const final = await approvals.complete(d.approvalId!, intent);
    expect(final.outcome).toBe('allow');
    expect(final.reasons[0]!.message).toBe(
      'Approved at level finance by carol (api) at 2026-03-04T12:00:00.000Z: "budgeted"; dan (api) at 2026-03-04T12:00:00.000Z',
    );
    expect(await held()).toBe('4500.000000');
  });

  it('one operator capability may vote for named approvers (a gateway)', async () => {
    const { engine, approvals, operator } = setup({ routing });
    const d = await engine.authorize(pay({ amount: '50000' }));
    expect(d.outcome).toBe('deny'); // above the deny rule: no request at all
    const e = await engine.authorize(pay({ amount: '500' }));
    const v = await approvals.vote(e.approvalId!, {
      operator,
      approver: 'Bob',
      approve: true,
      channel: 'dashboard',
    });
    expect(v).toMatchObject({ status: 'approved', votes: [{ approver: 'Bob', channel: 'dashboard' }] });
  });

  it('escalates to the next level when a level times out, and re-notifies', async () => {
    const notified: string[] = [];
    const { engine, approvals, as, clock, lifecycle } = setup({
      routing,
      channels: [
        {
          name: 'log',
          notify: async (req) => {
            notified.push(`${req.level}:${(req.approvers ?? []).join(',')}`);
          },
        },
      ],
    });
    const first = channelOutcomes(approvals, 1);
    const d = await engine.authorize(pay({ amount: '500' }));
    expect(await first).toEqual(['notified:log']);
    clock.advance(59_999);
    expect((await approvals.get(d.approvalId!))!.level).toBe('team-lead');
    clock.advance(1);
    const second = channelOutcomes(approvals, 1);
    expect(await approvals.expire()).toBe(1);
    const view = await approvals.get(d.approvalId!);
    expect(view).toMatchObject({ status: 'pending', level: 'finance', required: 2 });
    expect(lifecycle.find((e) => e.type === 'approval.escalated')!.payload).toMatchObject({
      from: 'team-lead',
      to: 'finance',
      at: T0 + 60_000,
    });
    await rejectsWith(
      approvals.vote(d.approvalId!, { operator: as('alice'), approve: true }),
      ApprovalErrorCode.NOT_ALLOWED,
    );
    expect(await second).toEqual(['notified:log']);
    expect(notified).toEqual(['team-lead:alice,bob', 'finance:carol,dan']);
  });

  it('votes of a lower level do not count after escalation', async () => {
    const levels: ApprovalRoutingInput = {
      levels: [
        { name: 'l1', quorum: 2, timeoutMs: 1_000 },
        { name: 'l2', quorum: 2 },
      ],
    };
    const { engine, approvals, as, clock } = setup({ routing: levels });
    const d = await engine.authorize(pay({ amount: '500' }));
    await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    clock.advance(1_000);
    const v = await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    expect(v).toMatchObject({ status: 'pending', level: 'l2' });
    expect(v.votes.map((x) => `${x.approver}@${x.level}`)).toEqual(['alice@l1', 'alice@l2']);
  });

  it('a timeout on the last level expires the request', async () => {
    const { engine, approvals, clock, held } = setup({
      routing: { levels: [{ name: 'only', quorum: 1, timeoutMs: 30_000 }] },
    });
    const d = await engine.authorize(pay({ amount: '500' }));
    clock.advance(30_000);
    expect(await approvals.get(d.approvalId!)).toMatchObject({
      status: 'expired',
      resolution: { reason: 'level only timed out with no higher level' },
    });
    expect(await held()).toBe('0.000000');
  });

  it('each level gets its full timeout from when it was reached (a late sweep does not skip a level)', async () => {
    const { engine, approvals, clock, lifecycle } = setup({
      ttlMs: 600_000,
      routing: {
        levels: [
          { name: 'a', timeoutMs: 1_000 },
          { name: 'b', timeoutMs: 1_000 },
          { name: 'c', timeoutMs: 1_000 },
        ],
      },
    });
    const d = await engine.authorize(pay({ amount: '500' }));
    clock.advance(10_000);
    expect(await approvals.get(d.approvalId!)).toMatchObject({ status: 'pending', level: 'b' });
    clock.advance(1_000);
    expect(await approvals.get(d.approvalId!)).toMatchObject({ status: 'pending', level: 'c' });
    clock.advance(1_000);
    expect((await approvals.get(d.approvalId!))!.status).toBe('expired');
    expect(
      lifecycle
        .filter((e) => e.type === 'approval.escalated')
        .map((e) => (e.payload as { at: number }).at - T0),
    ).toEqual([10_000, 11_000]);
  });
});

describe('routeLevel', () => {
  const levels = ApprovalRouting.parse({
    levels: [
      { name: 'small', upTo: 100, currency: 'usdc' },
      { name: 'eur', upTo: '1000', currency: 'EUR' },
      { name: 'top' },
    ],
  }).levels;
  const at = (input: Parameters<typeof pay>[0]) => levels[routeLevel(levels, parseIntent(pay(input)))]!.name;

  it('matches currencies case-insensitively and skips levels in another currency', () => {
    expect(at({ amount: '100' })).toBe('small');
    expect(at({ amount: '100.000001' })).toBe('top');
    expect(at({ amount: '5', currency: 'EUR' })).toBe('eur');
  });

  it('an intent without an amount goes to the last level', () => {
    const intent = parseIntent({ agentId: 'a', action: 'db.drop' });
    expect(levels[routeLevel(levels, intent)]!.name).toBe('top');
    const bounded = ApprovalRouting.parse({
      levels: [
        { name: 'x', upTo: '1', currency: 'USDC' },
        { name: 'y', upTo: '2', currency: 'USDC' },
      ],
    }).levels;
    expect(bounded[routeLevel(bounded, parseIntent(pay({ amount: '3' })))]!.name).toBe('y');
  });

  it('compareDecimal is exact (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        (a, b) => {
          const money = Money.fromMinor(a, 'USDC');
          const text = Money.fromMinor(b, 'USDC').toDecimalString();
          const expected = a < b ? -1 : a > b ? 1 : 0;
          return compareDecimal(money.minor, money.decimals, text) === expected;
        },
      ),
    );
    expect(compareDecimal(100n, 2, '1')).toBe(0);
    expect(compareDecimal(100n, 2, '0.999')).toBe(1);
    expect(compareDecimal(99n, 2, '0.991')).toBe(-1);
  });
});
