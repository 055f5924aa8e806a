// Run by terminal-channel.test.ts inside a pseudo-terminal: a real process whose stdin and
// stdout are a TTY, asking for one approval on the terminal channel.

import { PolicyEngine } from '../../engine/policy-engine.js';
import { createOperator } from '../../operator/index.js';
import { ApprovalManager } from '../approval-manager.js';
import { terminalChannel } from '../channels/terminal-channel.js';
import { budgetContext } from '../context.js';

const timeoutMs = Number(process.argv[2] ?? '10000');
const approvals = new ApprovalManager({
  sweepIntervalMs: 0,
  channels: [terminalChannel({ approver: 'alice', timeoutMs })],
  contextProviders: [budgetContext()],
});
const engine = new PolicyEngine({ approvals, operators: [createOperator({ actor: 'ops' })] });
engine.loadPolicy({
  id: 'pty',
  rules: [{ action: 'require_approval', code: 'vendor_review', message: 'New vendors need a human' }],
  budgets: [{ id: 'day', window: 'daily', maxAmount: 1000, currency: 'USDC' }],
});
const decision = await engine.authorize({
  agentId: 'research-bot',
  action: 'payment',
  amount: '250.00',
  currency: 'USDC',
  recipient: 'https://api.vendor.example/v1/report',
  protocol: 'x402',
});
const view = await approvals.waitFor(decision.approvalId!, { timeoutMs: 30_000 });
process.stdout.write(
  `RESULT ${JSON.stringify({ status: view.status, votes: view.votes, resolution: view.resolution })}\n`,
);
await approvals.close();
