// A policy, a budget, and six payments: each line is the engine's real decision.
import { allowAll, blockAbove, blockRecipients, PolicyEngine, requireApprovalAbove } from '@bursar/control';
import { ManualClock } from '@bursar/core';

const clock = new ManualClock('2026-11-21T09:00:00Z');
const engine = new PolicyEngine({ clock });
engine.loadPolicy({
  id: 'production',
  version: '2026-11-21',
  rules: [
    blockRecipients(['https://evil.example.com/*']),
    blockAbove(1000, 'USDC'),
    requireApprovalAbove(100, 'USDC'),
    allowAll(),
  ],
  budgets: [{ id: 'daily-usdc', window: 'daily', maxAmount: 150, currency: 'USDC' }],
});

const payments = [
  { amount: '25.00', recipient: 'https://api.example.com/v1/chat' },
  { amount: '0.10', recipient: 'https://api.example.com/v1/search' },
  { amount: '120.00', recipient: 'https://data.example.com/report' },
  { amount: '1500', recipient: 'https://api.example.com/v1/chat' },
  { amount: '5.00', recipient: 'https://evil.example.com/drain' },
  { amount: '40.00', recipient: 'https://api.example.com/v1/chat' },
];

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, text) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
const OUTCOME = { allow: '32', flag: '33', require_approval: '33', deny: '31' };

for (const p of payments) {
  const decision = await engine.authorize({
    agentId: 'research-bot',
    currency: 'USDC',
    protocol: 'x402',
    ...p,
  });
  if (decision.outcome === 'allow' && decision.holdId) await engine.capture(decision.holdId);
  const reason = decision.reasons[0];
  console.log(
    `${p.amount.padStart(8)} USDC  ${p.recipient.padEnd(34)} ${paint(OUTCOME[decision.outcome], decision.outcome.padEnd(16))} ${reason ? `${reason.code}: ${reason.message}` : ''}`,
  );
  clock.advance(60_000);
}

const [status] = await engine.getBudgetStatus({ agentId: 'research-bot' });
console.log(
  `\nbudget ${status.budgetId}: spent ${status.spent}, held ${status.held}, remaining ${status.remaining} ${status.currency}`,
);
console.log(
  `policy ${engine.getPolicies()[0].id}@${engine.getPolicies()[0].version} (${engine.getPolicies()[0].hash.slice(0, 12)}…)`,
);
