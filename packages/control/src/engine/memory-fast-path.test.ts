import {
  type AgentState,
  BursarError,
  ErrorCode,
  MemoryAgentStateStore,
  MemorySpendStore,
  type PlaceHoldRequest,
  type PlaceHoldResult,
} from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { codes, pay, setup } from '../__fixtures__/engine.js';

const policy = {
  id: 'p',
  rules: [{ action: 'allow' as const }],
  budgets: [{ window: 'daily', maxAmount: 100, currency: 'USDC' }],
};

/**
 * The engine calls core's memory stores synchronously when their methods are core's own. A
 * memory store that is extended or patched must still be asked through its methods.
 */
describe('memory stores with methods of their own', () => {
  it('a subclass overriding placeHold and getAgent is asked, not bypassed', async () => {
    const asked: string[] = [];
    class CountingSpend extends MemorySpendStore {
      override async placeHold(request: PlaceHoldRequest): Promise<PlaceHoldResult> {
        asked.push(`placeHold ${request.amount}`);
        return super.placeHold(request);
      }
    }
    class SuspendingAgents extends MemoryAgentStateStore {
      override async getAgent(agentId: string): Promise<AgentState> {
        asked.push(`getAgent ${agentId}`);
        return agentId === 'bad-bot'
          ? { agentId, suspended: true, suspendReason: 'test' }
          : super.getAgent(agentId);
      }
    }
    const { engine } = setup(
      { stores: { spend: new CountingSpend(), agents: new SuspendingAgents() } },
      policy,
    );
    const ok = await engine.authorize(pay({ amount: '3' }));
    expect(ok.outcome).toBe('allow');
    const denied = await engine.authorize(pay({ agentId: 'bad-bot' }));
    expect(codes(denied)).toEqual(['agent_suspended']);
    expect(asked).toEqual(['getAgent research-bot', 'placeHold 3000000', 'getAgent bad-bot']);
  });

  it('an instance patched after the engine was made is honoured', async () => {
    const spend = new MemorySpendStore();
    const agents = new MemoryAgentStateStore();
    const { engine } = setup({ stores: { spend, agents } }, policy);
    const first = await engine.authorize(pay());
    expect(first.outcome).toBe('allow');

    spend.placeHold = async () => {
      throw new Error('store down');
    };
    const failed = await engine.authorize(pay());
    expect(failed.outcome).toBe('deny');
    expect(codes(failed)).toEqual(['internal_error']);

    spend.captureHold = async (holdId) => {
      throw new BursarError(ErrorCode.HOLD_NOT_FOUND, `patched: no ${holdId}`);
    };
    await expect(engine.capture(first.holdId!)).rejects.toThrow(/patched: no/);

    agents.listKillSwitches = async () => [{ scope: 'global', actor: 'ops', at: 0 }];
    const killed = await engine.evaluate(pay());
    expect(codes(killed)).toEqual(['kill_switch_engaged']);
  });

  it('the synchronous path still expires a hold found past its expiry at capture, once', async () => {
    const { engine, clock, events } = setup({ holdTtlMs: 1_000 }, policy);
    const d = await engine.authorize(pay());
    clock.advance(1_000);
    await expect(engine.capture(d.holdId!)).rejects.toMatchObject({ code: ErrorCode.HOLD_NOT_ACTIVE });
    await expect(engine.capture(d.holdId!)).rejects.toMatchObject({ code: ErrorCode.HOLD_NOT_ACTIVE });
    expect(events.filter((e) => e.type === 'hold.expired')).toHaveLength(1);
    const [status] = await engine.getBudgetStatus();
    expect(status).toMatchObject({ spent: '0.000000', held: '0.000000' });
  });
});
