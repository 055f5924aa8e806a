// An Express 5 payment route behind Bursar's policyMiddleware. The script starts the app on
// 127.0.0.1 (an ephemeral port), sends real requests to it, and prints each HTTP answer and
// the budget the engine holds afterwards.
import { once } from 'node:events';
import {
  ApprovalManager,
  allowAll,
  blockRecipients,
  createOperator,
  dailyBudget,
  PolicyEngine,
  rateLimit,
  requireApprovalAbove,
} from '@bursar/control';
import { approvalStatusHandler, policyMiddleware } from '@bursar/control/express';
import { ManualClock } from '@bursar/core';
import express from 'express';

const clock = new ManualClock('2026-11-21T09:45:00Z');
const dashboard = createOperator({ actor: 'dashboard' }); // operator-side only, never the agent's
const approvals = new ApprovalManager({ sweepIntervalMs: 0 });
const engine = new PolicyEngine({ clock, approvals, operators: [dashboard] });
engine.loadPolicy({
  id: 'api',
  version: '2026-11-21',
  rules: [blockRecipients(['https://evil.example/*']), requireApprovalAbove(50, 'USDC'), allowAll()],
  budgets: [dailyBudget(100, 'USDC', { id: 'daily-usdc', scope: 'agent' })],
  rateLimits: [
    rateLimit({
      id: 'chatty-hourly',
      scope: 'agent',
      window: 'hourly',
      maxCount: 2,
      when: { agent: 'chatty-*' },
    }),
  ],
});

// Your authentication: here a fixed table of API tokens. The agent id never comes from the body.
const tokens = new Map([
  ['tok_research', 'research-bot'],
  ['tok_chatty', 'chatty-bot'],
]);
const authenticate = (req, _res, next) => {
  const agentId = tokens.get(req.get('authorization')?.replace(/^Bearer /, '') ?? '');
  if (agentId) req.auth = { agentId };
  next();
};

const app = express();
app.use(express.json());
app.use(authenticate);
app.get('/bursar/approvals/:id', approvalStatusHandler(approvals));
app.post('/pay', policyMiddleware({ engine, approvals }), (req, res) => {
  // The payment rail would run here; a 2xx answer captures the hold.
  res.json({ paid: req.bursar.intent.amount.format(), to: req.bursar.intent.recipient });
});

const server = app.listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${server.address().port}`;

/** The next `hold.captured` event (the middleware captures when a 2xx response finishes). */
const nextCapture = () =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no capture within 2 s')), 2000);
    engine.events.once('hold.captured', (e) => {
      clearTimeout(timer);
      resolve(e);
    });
  });

async function pay(token, amount, recipient, headers = {}) {
  const res = await fetch(`${base}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ amount, currency: 'USDC', recipient }),
  });
  return { res, body: await res.json() };
}

function show(agent, amount, { res, body }, extra = '') {
  const detail =
    res.status === 200
      ? `paid ${body.paid}`
      : res.status === 202
        ? `${body.status}, approval ${body.approvalId.slice(0, 8)}…`
        : `${body.error.code}: ${body.error.decision?.reasons.find((r) => r.outcome === 'deny')?.code ?? ''}`;
  console.log(`${agent.padEnd(13)} ${amount.padStart(6)} USDC  ${res.status}  ${detail}${extra}`);
}

async function paid(token, agent, amount, recipient, headers) {
  const captured = nextCapture();
  const answer = await pay(token, amount, recipient, headers);
  show(agent, amount, answer, answer.res.status === 200 ? `; captured ${(await captured).captured}` : '');
  return answer;
}

try {
  await paid('tok_research', 'research-bot', '12.50', 'https://api.example.com/v1/chat');
  show('research-bot', '5.00', await pay('tok_research', '5.00', 'https://evil.example/drain'));

  // Above 50 USDC: 202 pending, the 75 USDC stay held while a human decides.
  const report = 'https://data.example.com/report';
  const pending = await pay('tok_research', '75.00', report);
  show('research-bot', '75.00', pending);
  const { approvalId, statusUrl } = pending.body;
  const status = await fetch(`${base}${statusUrl}`, { headers: { authorization: 'Bearer tok_research' } });
  const [held] = await engine.getBudgetStatus({ agentId: 'research-bot' });
  console.log(`  GET statusUrl → ${status.status} ${(await status.json()).status}; held ${held.held} USDC`);
  const voted = await approvals.vote(approvalId, {
    operator: dashboard,
    approver: 'alice',
    approve: true,
    reason: 'quarterly report',
  });
  console.log(`  alice votes on the dashboard → ${voted.status}`);
  // The agent sends the same request again, naming the approval.
  await paid('tok_research', 'research-bot', '75.00', report, { 'bursar-approval-id': approvalId });

  // 12.50 + 75.00 spent: 20 more would pass the 100 USDC daily budget.
  show('research-bot', '20.00', await pay('tok_research', '20.00', 'https://api.example.com/v1/chat'));

  // chatty-* agents may pay twice an hour.
  await paid('tok_chatty', 'chatty-bot', '1.00', 'https://api.example.com/v1/search');
  await paid('tok_chatty', 'chatty-bot', '1.00', 'https://api.example.com/v1/search');
  const limited = await pay('tok_chatty', '1.00', 'https://api.example.com/v1/search');
  show('chatty-bot', '1.00', limited, `; Retry-After: ${limited.res.headers.get('retry-after')} s`);

  console.log('');
  for (const agentId of ['research-bot', 'chatty-bot']) {
    const [s] = await engine.getBudgetStatus({ agentId, budgetId: 'daily-usdc' });
    console.log(
      `budget ${s.budgetId} (${s.scope}): spent ${s.spent}, held ${s.held}, remaining ${s.remaining} ${s.currency}`,
    );
  }
  const [r] = await engine.getBudgetStatus({ agentId: 'chatty-bot', budgetId: 'chatty-hourly' });
  console.log(
    `rate limit ${r.budgetId} (${r.scope}): ${r.spent} of ${r.limit} used, window ends ${new Date(r.windowEnd).toISOString()}`,
  );
} finally {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await approvals.close();
}
