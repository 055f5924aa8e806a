import { BursarError, ErrorCode, ManualClock } from '@bursar/core';
import { afterEach, describe, expect, it } from 'vitest';
import { PolicyEngine } from '../engine/policy-engine.js';
import { type ApprovalHarness, pay, setupApprovals, T0 } from './__fixtures__/approvals.js';
import { ApprovalManager } from './approval-manager.js';

const harnesses: ApprovalHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.approvals.close();
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("onExpiry 'allow' and the hold's lifetime", () => {
  it('with the default ttlMs and holdTtlMs (15 min each) the engine refuses the manager, naming both', () => {
    const approvals = new ApprovalManager({ onExpiry: 'allow', sweepIntervalMs: 0 });
    const error = thrown(() => new PolicyEngine({ clock: new ManualClock(T0), approvals }));
    expect(BursarError.hasCode(error, ErrorCode.INVALID_OPTIONS), String(error)).toBe(true);
    const e = error as BursarError;
    expect(e.message).toContain('ttlMs (900000 ms)');
    expect(e.message).toContain('holdTtlMs (900000 ms)');
    expect(e.message).toMatch(/lower ttlMs or raise the engine's holdTtlMs/);
    expect(e.issues).toEqual([{ path: 'ttlMs', message: expect.stringContaining('onExpiry') }]);
  });

  it('a ttlMs longer than holdTtlMs is refused as well; onExpiry deny does not care', () => {
    const allow = new ApprovalManager({ onExpiry: 'allow', ttlMs: 600_000, sweepIntervalMs: 0 });
    expect(() => new PolicyEngine({ holdTtlMs: 300_000, approvals: allow })).toThrow(
      /holdTtlMs \(300000 ms\)/,
    );
    const deny = new ApprovalManager({ ttlMs: 600_000, sweepIntervalMs: 0 });
    expect(() => new PolicyEngine({ holdTtlMs: 300_000, approvals: deny })).not.toThrow();
  });

  it('with ttlMs below holdTtlMs an unanswered request is allowed at expiry and its amount captured', async () => {
    const h = setupApprovals({ onExpiry: 'allow', ttlMs: 600_000 });
    harnesses.push(h);
    const intent = pay({ amount: '250.00' });
    const d = await h.engine.authorize(intent);
    h.clock.set(T0 + 600_000);
    expect(await h.approvals.expire()).toBe(1);
    const final = await h.approvals.complete(d.approvalId!, intent);
    expect(final).toMatchObject({ outcome: 'allow', holdId: d.holdId });
    expect(await h.engine.capture(final.holdId!)).toMatchObject({
      state: 'captured',
      captured: '250.000000',
    });
    expect((await h.engine.getBudgetStatus())[0]).toMatchObject({ spent: '250.000000', held: '0.000000' });
  });
});
