/**
 * Benchmarks of the approval workflow. Run: pnpm --filter @bursar/control bench
 * Prints one `BENCH {json}` line per measurement (nanoseconds).
 */
import { ManualClock } from '@bursar/core';
import { bench } from '@bursar/core/testing';
import {
  ApprovalManager,
  allowAll,
  createOperator,
  PolicyEngine,
  requireApprovalAbove,
} from '../src/index.js';

const clock = new ManualClock(Date.parse('2026-03-02T09:00:00Z'));
const admin = createOperator({ actor: 'ops' });
const approvals = new ApprovalManager({ sweepIntervalMs: 0, cooldownMs: 0 });
const engine = new PolicyEngine({ clock, approvals, operators: [admin] });
engine.loadPolicy({
  id: 'bench',
  rules: [requireApprovalAbove(100, 'USDC'), allowAll()],
  budgets: [{ window: 'daily', maxAmount: '1000000000', currency: 'USDC' }],
});

let n = 0;
const intent = () =>
  engine.parseIntent({
    agentId: `agent-${n % 100}`,
    amount: '250.00',
    currency: 'USDC',
    recipient: `https://vendor-${n++ % 50}.example/pay`,
  });

await bench(
  'approvals: authorize (request created, budget held) + vote + complete + capture',
  async () => {
    clock.advance(1);
    const parsed = intent();
    const d = await engine.authorize(parsed);
    await approvals.vote(d.approvalId!, { operator: admin, approve: true });
    const final = await approvals.complete(d.approvalId!, parsed);
    await engine.capture(final.holdId!);
  },
  { iterations: 20_000 },
);

const pending = await engine.authorize(intent());
await bench('approvals: get (agent-safe view)', () => approvals.get(pending.approvalId!), {
  iterations: 100_000,
});
await approvals.close();
