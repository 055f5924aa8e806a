import { afterEach, describe, expect, it } from 'vitest';
import { type ApprovalHarness, channelOutcomes, pay, setupApprovals } from '../__fixtures__/approvals.js';
import { ApprovalErrorCode } from '../codes.js';
import type { ApprovalManagerOptions } from '../options.js';
import type { ApprovalChannel, ApproverView } from '../types.js';
import { handlerChannel } from './handler-channel.js';

const harnesses: ApprovalHarness[] = [];
function setup(options: ApprovalManagerOptions = {}): ApprovalHarness {
  const h = setupApprovals(options);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.approvals.close();
});

describe('handlerChannel', () => {
  it('votes with the handler’s verdict in the background; authorize does not wait for it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const seen: ApproverView[] = [];
    const { engine, approvals } = setup({
      channels: [
        handlerChannel({
          approver: 'spend-bot',
          handler: async (request) => {
            seen.push(request);
            await gate;
            return { approve: true, reason: `${request.amount} is fine` };
          },
        }),
      ],
      contextProviders: [{ name: 'note', provide: () => 'approver only' }],
    });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    expect(d.outcome).toBe('require_approval');
    expect((await approvals.get(d.approvalId!))!.status).toBe('pending');
    release();
    const view = await approvals.waitFor(d.approvalId!, { timeoutMs: 5_000 });
    expect(view).toMatchObject({
      status: 'approved',
      votes: [{ approver: 'spend-bot', channel: 'handler', reason: '250.000000 is fine' }],
    });
    expect(seen[0]).toMatchObject({ id: d.approvalId, context: { note: 'approver only' }, holdId: d.holdId });
    expect(seen[0]!.reasons.map((r) => r.code)).toEqual(['approval_required_above']);
  });

  it('a handler that abstains leaves the request pending', async () => {
    const { engine, approvals } = setup({ channels: [handlerChannel({ handler: () => undefined })] });
    const outcomes = channelOutcomes(approvals, 1);
    const d = await engine.authorize(pay({ amount: '250.00' }));
    expect(await outcomes).toEqual(['notified:handler']);
    expect((await approvals.get(d.approvalId!))!.status).toBe('pending');
  });

  it('a handler that throws is a channel failure: reported, and the request is rejected (fail closed)', async () => {
    const errors: Array<{ operation: string; approvalId?: string }> = [];
    const { engine, approvals, held, lifecycle } = setup({
      channels: [
        handlerChannel({
          handler: () => {
            throw new Error('review service down');
          },
        }),
      ],
      onError: (_e, ctx) => {
        errors.push(ctx);
      },
    });
    const intent = pay({ amount: '250.00' });
    const d = await engine.authorize(intent);
    const view = await approvals.waitFor(d.approvalId!, { timeoutMs: 5_000 });
    expect(view).toMatchObject({
      status: 'rejected',
      resolution: { kind: 'channel_error', by: 'system:channel', reason: 'handler: review service down' },
    });
    expect(errors).toEqual([{ operation: 'channel.handler', approvalId: d.approvalId }]);
    expect(lifecycle.map((e) => e.type)).toContain('approval.channel_failed');
    expect(await held()).toBe('0.000000');
    // No human rejected it: no cool-down.
    expect((await engine.authorize(intent)).outcome).toBe('require_approval');
    const final = await approvals.complete(d.approvalId!, intent);
    expect(final.reasons[0]!.code).toBe('approval_channel_failed');
  });

  it('with several channels, one failure does not reject (reject_when_all_fail); keep_pending never rejects', async () => {
    const failing: ApprovalChannel = {
      name: 'broken',
      notify: async () => {
        throw new Error('down');
      },
    };
    const quiet: ApprovalChannel = { name: 'quiet', notify: async () => undefined };
    const a = setup({ channels: [failing, quiet] });
    const aOutcomes = channelOutcomes(a.approvals, 2);
    const d1 = await a.engine.authorize(pay({ amount: '250.00' }));
    expect((await aOutcomes).sort()).toEqual(['failed:broken', 'notified:quiet']);
    expect((await a.approvals.get(d1.approvalId!))!.status).toBe('pending');

    const b = setup({ channels: [failing], onChannelError: 'keep_pending' });
    const bOutcomes = channelOutcomes(b.approvals, 1);
    const d2 = await b.engine.authorize(pay({ amount: '250.00' }));
    expect(await bOutcomes).toEqual(['failed:broken']);
    expect((await b.approvals.get(d2.approvalId!))!.status).toBe('pending');

    const c = setup({ channels: [failing, quiet], onChannelError: 'reject' });
    const d3 = await c.engine.authorize(pay({ amount: '250.00' }));
    expect((await c.approvals.waitFor(d3.approvalId!, { timeoutMs: 5_000 })).status).toBe('rejected');
  });

  it('a slow channel is aborted when the request is resolved elsewhere, and close() waits for it', async () => {
    let aborted = false;
    let started!: () => void;
    const running = new Promise<void>((r) => {
      started = r;
    });
    let finished = false;
    const slow: ApprovalChannel = {
      name: 'slow',
      notify: (_request, context) =>
        new Promise<void>((resolve) => {
          started();
          context.signal.addEventListener('abort', () => {
            aborted = true;
            setTimeout(() => {
              finished = true;
              resolve();
            }, 20);
          });
        }),
    };
    const { engine, approvals, as } = setup({ channels: [slow] });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    await running;
    expect(aborted).toBe(false);
    await approvals.vote(d.approvalId!, { operator: as('alice'), approve: true });
    expect(aborted).toBe(true);
    expect(finished).toBe(false);
    await approvals.close();
    expect(finished).toBe(true);
  });

  it('a channel vote obeys the same rules as the API (routing, self-approval)', async () => {
    const errors: unknown[] = [];
    const { engine, approvals } = setup({
      channels: [handlerChannel({ approver: 'research-bot', handler: () => ({ approve: true }) })],
      onError: (e) => {
        errors.push(e);
      },
    });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    const view = await approvals.waitFor(d.approvalId!, { timeoutMs: 5_000 });
    expect(view.status).toBe('rejected');
    expect(errors[0]).toMatchObject({ code: ApprovalErrorCode.SELF_APPROVAL });
  });

  it('context providers that fail or hang show as { error } and do not block', async () => {
    let notified!: (request: ApproverView) => void;
    const seen = new Promise<ApproverView>((r) => {
      notified = r;
    });
    const { engine } = setup({
      contextTimeoutMs: 20,
      contextProviders: [
        {
          name: 'broken',
          provide: () => {
            throw new Error('no data');
          },
        },
        { name: 'hangs', provide: () => new Promise(() => undefined) },
        { name: 'ok', provide: () => ({ balance: '12.50' }) },
      ],
      channels: [
        {
          name: 'capture',
          notify: async (request) => {
            notified(request);
          },
        },
      ],
    });
    await engine.authorize(pay({ amount: '250.00' }));
    expect((await seen).context).toEqual({
      broken: { error: 'no data' },
      hangs: { error: 'context provider hangs timed out after 20 ms' },
      ok: { balance: '12.50' },
    });
  });

  it('validates its options', () => {
    expect(() => handlerChannel({} as never)).toThrow(/handler/);
    expect(() => handlerChannel({ handler: () => undefined, name: '' })).toThrow(/name/);
  });
});
