import { BursarError } from '@bursar/core';
import { tool as aiTool } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ApprovalGate } from './approval-gate.js';
import { guard } from './guard.js';
import { httpHarness } from './http/__fixtures__/http-harness.js';
import { PolicyDeniedError } from './policy-denied-error.js';
import { protectTools } from './protect-tools.js';

// The shared harness: above 50 USDC needs approval, 100 USDC a day.
let h: ReturnType<typeof httpHarness>;
afterEach(async () => {
  await h.approvals.close();
});

function paying(runs: string[], options: { approvalTimeoutMs?: number; withApprovals?: boolean } = {}) {
  h = httpHarness();
  // The real ApprovalManager is an ApprovalGate (checked by the compiler here).
  const approvals: ApprovalGate = h.approvals;
  return guard(
    async (to: string, amount: string) => {
      runs.push(`${amount}->${to}`);
      return `paid ${amount}`;
    },
    {
      engine: h.engine,
      agentId: 'bot-1',
      action: 'pay',
      mapArgs: (to, amount) => ({ amount, currency: 'USDC', recipient: to }),
      ...(options.withApprovals === false ? {} : { approvals }),
      ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
    },
  );
}

/** The id of the next approval request raised. */
function nextRequest(): Promise<string> {
  return new Promise((resolve) => {
    const off = h.approvals.events.on('approval.requested', (e) => {
      off();
      resolve(e.approval.id);
    });
  });
}

describe('guard() with the ApprovalManager', () => {
  it('waits for approval, then runs, and captures the approved hold', async () => {
    const runs: string[] = [];
    const pay = paying(runs);
    const requested = nextRequest();
    const call = pay('https://api.example.com/', '60');
    const id = await requested;
    expect(await h.day()).toEqual({ spent: '0.000000', held: '60.000000' });
    expect(runs).toEqual([]);
    await h.approvals.vote(id, { operator: h.as('alice@example.com'), approve: true });
    await expect(call).resolves.toBe('paid 60');
    expect(runs).toEqual(['60->https://api.example.com/']);
    expect(await h.day()).toEqual({ spent: '60.000000', held: '0.000000' });
    expect((await h.approvals.get(id))?.status).toBe('consumed');
  });

  it('a rejection throws PolicyDeniedError and releases the hold; the function never runs', async () => {
    const runs: string[] = [];
    const pay = paying(runs);
    const requested = nextRequest();
    const call = pay('https://api.example.com/', '70').catch((e: unknown) => e);
    await h.approvals.vote(await requested, {
      operator: h.as('bob@example.com'),
      approve: false,
      reason: 'no',
    });
    const error = await call;
    expect(PolicyDeniedError.isInstance(error)).toBe(true);
    expect((error as PolicyDeniedError).decision.outcome).toBe('deny');
    expect(runs).toEqual([]);
    expect(await h.day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('no decision within approvalTimeoutMs → approval_timeout, hold released', async () => {
    const runs: string[] = [];
    const pay = paying(runs, { approvalTimeoutMs: 20 });
    const error = await pay('https://api.example.com/', '80').catch((e: unknown) => e);
    expect(PolicyDeniedError.isInstance(error)).toBe(true);
    expect((error as PolicyDeniedError).decision.reasons[0]!.code).toBe('approval_timeout');
    expect(runs).toEqual([]);
    expect(await h.day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('expiry of the request ends the wait with a denial', async () => {
    const runs: string[] = [];
    const pay = paying(runs);
    const requested = nextRequest();
    const call = pay('https://api.example.com/', '55').catch((e: unknown) => e);
    await requested;
    h.clock.advance(16 * 60_000);
    expect(await h.approvals.expire()).toBe(1);
    const error = await call;
    expect(PolicyDeniedError.isInstance(error)).toBe(true);
    expect(runs).toEqual([]);
    expect(await h.day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('an AI SDK abort signal stops the wait and releases the hold', async () => {
    h = httpHarness();
    const { transfer } = protectTools(
      {
        transfer: aiTool({
          description: 'Send USDC',
          inputSchema: z.object({ amount: z.string() }),
          execute: async ({ amount }) => `sent ${amount}`,
        }),
      },
      {
        engine: h.engine,
        agentId: 'bot-1',
        approvals: h.approvals,
        mapArgs: (input) => ({ amount: (input as { amount: string }).amount, currency: 'USDC' }),
      },
    );
    const controller = new AbortController();
    const requested = nextRequest();
    const running = transfer.execute!(
      { amount: '90' },
      { toolCallId: 't1', messages: [], abortSignal: controller.signal },
    ) as Promise<string>;
    const call = running.catch((e: unknown) => e);
    await requested;
    controller.abort(new Error('user stopped the agent'));
    const error = await call;
    expect((error as Error).message).toBe('user stopped the agent');
    expect(await h.day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('an approval is single-use: the same call cannot complete it again', async () => {
    const runs: string[] = [];
    const pay = paying(runs);
    const requested = nextRequest();
    const call = pay('https://api.example.com/', '60');
    const id = await requested;
    await h.approvals.vote(id, { operator: h.as('alice@example.com'), approve: true });
    await call;
    const parsed = h.engine.parseIntent({
      agentId: 'bot-1',
      action: 'pay',
      amount: '60',
      currency: 'USDC',
      recipient: 'https://api.example.com/',
      params: { args: ['https://api.example.com/', '60'] },
    });
    const error = await h.approvals.complete(id, parsed).catch((e: unknown) => e);
    expect(BursarError.hasCode(error, 'ERR_BURSAR_APPROVAL_CONSUMED')).toBe(true);
    expect(runs).toHaveLength(1);
  });
});
